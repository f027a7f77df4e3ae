"""A hello-world Flask app: the baseline that ``bench/marketplace.py`` serves under gunicorn next to the real app."""

from __future__ import annotations

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    return "Hello, World!"
