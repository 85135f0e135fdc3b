"""Placeholder sections; replaced by the full CRUD views."""

from flask import Blueprint, Flask


def register_sections(app: Flask) -> None:
    for name, prefix in [("setter_types", "/setter-types"),
                         ("setters", "/crossword-setters"),
                         ("solution_types", "/solution-types"),
                         ("solutions", "/crossword-solutions"),
                         ("cue_words", "/cue-words")]:
        bp = Blueprint(name, __name__, url_prefix=prefix, template_folder="templates")
        bp.add_url_rule("/", "index", lambda: "list")
        app.register_blueprint(bp)
