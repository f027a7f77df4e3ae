"""Inquiry pages for buyers (/inquiries) and suppliers (/firm/inquiries)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("inquiries", __name__)
