"""The crossword content: one blueprint per section, plus search and the API."""

from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    from . import api, front, legacy
    from .demo import load_demo_command
    from .views import register_sections

    register_sections(app)
    app.cli.add_command(load_demo_command)
    legacy.init_app(app)
    api.init_app(app)
    app.add_url_rule("/", "index", front.front_page)
