"""The crossword content: one blueprint per section, plus search and the API."""

from __future__ import annotations

from flask import Flask, render_template, request


def init_app(app: Flask) -> None:
    from .views import register_sections

    register_sections(app)

    @app.route("/")
    def index() -> str:
        return render_template("catalogue/front.html", q=request.args.get("q", ""))
