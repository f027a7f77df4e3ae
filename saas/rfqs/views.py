"""RFQ pages for buyers (/rfqs) and suppliers (/firm/rfqs)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("rfqs", __name__)
