"""The firm's benchmarking report: web page and PDF download (the full PDF is gated by ``billing.entitlements``)."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, render_template, send_file, url_for
from flask_babel import gettext as _

from saas import billing
from saas.assessments import instruments
from saas.assessments import services as assessment_services
from saas.benchmarking import report, services
from saas.core.extensions import db
from saas.core.security import require_firm_member
from saas.core.tenancy import get_in_tenant_or_404
from saas.models import ReportJob, utcnow
from saas.reports import services as reports
from saas.web.forms import ConfirmForm
from saas.web.lang import ui_lang

bp = Blueprint("benchmarking", __name__, url_prefix="/benchmarking")
bp.before_request(require_firm_member)


def _context(assessment_id: uuid.UUID) -> dict[str, Any]:
    assessment = assessment_services.get_assessment(db.session, g.tenant, assessment_id)
    snapshot = assessment_services.latest_snapshot(db.session, g.tenant, assessment)
    if snapshot is None:
        abort(404)
    instrument = instruments.engine_instrument(assessment.instrument_version)
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
    return render_template("benchmarking/report.html", confirm=ConfirmForm(), **_context(assessment_id))


def _report_key(assessment_id: uuid.UUID) -> tuple[Any, Any, str]:
    assessment = assessment_services.get_assessment(db.session, g.tenant, assessment_id)
    snapshot = assessment_services.latest_snapshot(db.session, g.tenant, assessment)
    if snapshot is None:
        abort(404)
    bench = services.benchmark_for(db.session, g.tenant, snapshot, assessment.instrument_version)
    return assessment, snapshot, reports.content_key(snapshot, bench.stats_version if bench else 0, _locale())


def _locale() -> str:
    return "en" if ui_lang() == "en" else "zh_CN"


@bp.route("/<uuid:assessment_id>/pdf", methods=["POST"])
def request_pdf(assessment_id: uuid.UUID) -> Any:
    """Ask for the PDF: a cached report is served at once; otherwise a job renders it (in a worker if one runs)."""
    if not ConfirmForm().validate_on_submit():
        abort(400)
    assessment, snapshot, key = _report_key(assessment_id)
    if not billing.entitlements(g.tenant, utcnow()).full_report(snapshot.id):
        return _offer_report(assessment.id)
    job, render_now = reports.request_report(db.session, g.tenant, g.user, assessment, key, _locale())
    db.session.commit()
    if render_now:
        reports.render_job(db.session, g.tenant.id, job.id)
    return redirect(url_for("benchmarking.pdf_status", assessment_id=assessment.id, job_id=job.id))


def _offer_report(assessment_id: uuid.UUID) -> Any:
    """The full PDF is Pro's or bought once: send the firm to the billing page with this report on offer."""
    flash(_("The full PDF report is part of Pro, or can be bought for this assessment alone."), "info")
    return redirect(url_for("billing.index", report_for=assessment_id), code=303)


def _job(assessment_id: uuid.UUID, job_id: uuid.UUID) -> ReportJob:
    job = get_in_tenant_or_404(db.session, ReportJob, job_id, g.tenant.id)
    if job.assessment_id != assessment_id:
        abort(404)
    return job


def _job_snapshot(assessment: Any, job: ReportJob) -> Any:
    """The snapshot the job's file is of: the one whose content key is the job's (None when none matches any more).

    Not simply the latest: after a re-submission or the bureau's verification an older job still serves the older
    snapshot's report, and the entitlement must be that snapshot's.
    """
    for snapshot in assessment_services.snapshots(db.session, g.tenant, assessment):
        bench = services.benchmark_for(db.session, g.tenant, snapshot, assessment.instrument_version)
        if reports.content_key(snapshot, bench.stats_version if bench else 0, job.locale) == job.content_key:
            return snapshot
    return None


@bp.route("/<uuid:assessment_id>/pdf/<uuid:job_id>")
def pdf_status(assessment_id: uuid.UUID, job_id: uuid.UUID) -> Any:
    job = _job(assessment_id, job_id)
    return render_template("benchmarking/pdf_status.html", job=job, assessment_id=assessment_id, confirm=ConfirmForm())


@bp.route("/<uuid:assessment_id>/pdf/<uuid:job_id>/file")
def pdf_file(assessment_id: uuid.UUID, job_id: uuid.UUID) -> Any:
    job = _job(assessment_id, job_id)
    assessment = assessment_services.get_assessment(db.session, g.tenant, assessment_id)
    snapshot = _job_snapshot(assessment, job)
    if snapshot is None or not billing.entitlements(g.tenant, utcnow()).full_report(snapshot.id):
        return _offer_report(assessment_id)
    path = reports.report_path(g.tenant.id, job.content_key)
    if job.status != "ready" or not path.exists():
        return redirect(url_for("benchmarking.pdf_status", assessment_id=assessment_id, job_id=job.id))
    response = send_file(
        path, mimetype="application/pdf", as_attachment=True, download_name=f"benchmark-{job.assessment_id}.pdf"
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response


@bp.route("/<uuid:assessment_id>/pdf/<uuid:job_id>/retry", methods=["POST"])
def pdf_retry(assessment_id: uuid.UUID, job_id: uuid.UUID) -> Any:
    job = _job(assessment_id, job_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    render_now = reports.retry(db.session, g.tenant, job)
    db.session.commit()
    if render_now:
        reports.render_job(db.session, g.tenant.id, job.id)
    return redirect(url_for("benchmarking.pdf_status", assessment_id=assessment_id, job_id=job.id))
