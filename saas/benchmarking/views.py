"""The firm's benchmarking report: web page and PDF download (the PDF goes through one entitlement check)."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, abort, g, redirect, render_template, url_for

from saas.assessments import services as assessment_services
from saas.benchmarking import report
from saas.extensions import db
from saas.security import require_firm_member

bp = Blueprint("benchmarking", __name__, url_prefix="/benchmarking")
bp.before_request(require_firm_member)


def _context(assessment_id: uuid.UUID) -> dict[str, Any]:
    assessment = assessment_services.get_assessment(db.session, g.tenant, assessment_id)
    snapshot = assessment_services.latest_snapshot(db.session, g.tenant, assessment)
    if snapshot is None:
        abort(404)
    instrument = assessment_services.engine_instrument(assessment.instrument_version)
    return report.build(db.session, g.tenant, assessment, instrument, snapshot)


@bp.route("/")
def latest() -> Any:
    """Open the report of the firm's latest submitted assessment."""
    done = [a for a in assessment_services.list_assessments(db.session, g.tenant) if a.submitted_at is not None]
    if not done:
        return render_template("benchmarking/empty.html")
    newest = max(done, key=lambda a: a.submitted_at)
    return redirect(url_for("benchmarking.report_page", assessment_id=newest.id))


@bp.route("/<uuid:assessment_id>")
def report_page(assessment_id: uuid.UUID) -> Any:
    return render_template("benchmarking/report.html", **_context(assessment_id))
