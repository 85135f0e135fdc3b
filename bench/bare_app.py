"""The baseline for page throughput: a bare Flask route returning a constant.

Served by gunicorn with the same settings as the site
(``gunicorn bench.bare_app:app``).
"""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def constant() -> str:
    return "Crossword Hints"
