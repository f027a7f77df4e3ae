"""Firm report PDFs (gated by ``saas.billing.entitlements``): a content-keyed cache, background jobs and the sweeper.

The content key is SHA-256(snapshot id, cohort-statistics version, template version, locale): the same key is
rendered at most once; a changed snapshot, a statistics refresh or a new template gives a new key. Files live under
``REPORTS_DIR/<firm_id>/<key>.pdf`` (a deterministic path, so a job that runs twice writes one file).
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import current_app
from flask_babel import force_locale
from sqlalchemy import select
from sqlalchemy.orm import Session

from saas.assessments import instruments
from saas.assessments import services as assessment_services
from saas.benchmarking import report
from saas.benchmarking.services import system_read
from saas.core import jobs
from saas.core.pdf import render_pdf, report_context
from saas.core.tenancy import set_tenant, tenant_select
from saas.models import Assessment, Firm, ReportJob, ScoreSnapshot, User, utcnow

#: Bump when the PDF templates change in a way that should invalidate cached reports.
TEMPLATE_VERSION = "firm-report-2"  # 2: no per-bin peer counts (docs/suppression.md §8)
TASK = "saas.reports.tasks.render_report_job"


def content_key(snapshot: ScoreSnapshot, stats_version: int, locale: str) -> str:
    """Return the cache key of a report: snapshot, statistics version, template version and language."""
    raw = f"{snapshot.id}|{stats_version}|{TEMPLATE_VERSION}|{locale}"
    return hashlib.sha256(raw.encode()).hexdigest()


def report_path(firm_id: uuid.UUID, key: str) -> Path:
    """Return the file of a rendered report."""
    return Path(current_app.config["REPORTS_DIR"]) / str(firm_id) / f"{key}.pdf"


def find_job(dbs: Session, firm: Firm, key: str) -> ReportJob | None:
    """Return the firm's job for ``key``, if any."""
    return dbs.scalar(tenant_select(ReportJob).where(ReportJob.firm_id == firm.id, ReportJob.content_key == key))


def request_report(
    dbs: Session, firm: Firm, user: User, assessment: Assessment, key: str, locale: str
) -> tuple[ReportJob, bool]:
    """Return the job for ``key``, creating (and queueing) it if needed; the flag says whether to render in process.

    A ready job whose file exists is the cache hit; a failed job is left for the retry button.
    """
    job = find_job(dbs, firm, key)
    if job is None:
        job = ReportJob(
            firm_id=firm.id,
            kind="firm_report",
            assessment_id=assessment.id,
            content_key=key,
            locale=locale,
            requested_by_id=user.id,
        )
        dbs.add(job)
        dbs.flush()
        return job, _queue(dbs, job)
    if job.status == "ready" and not report_path(firm.id, key).exists():
        job.status = "queued"  # the file was cleaned up: render again
        return job, _queue(dbs, job)
    return job, False


def retry(dbs: Session, firm: Firm, job: ReportJob) -> bool:
    """Queue a failed job again; return whether to render in process."""
    job.status, job.error, job.updated_at = "queued", None, utcnow()
    return _queue(dbs, job)


def _queue(dbs: Session, job: ReportJob) -> bool:
    url = jobs.redis_url()
    job.updated_at = utcnow()
    if url is None:
        return True
    jobs.enqueue_after_commit(dbs, url, TASK, str(job.firm_id), str(job.id), job_id=f"{job.id}-{job.attempts}")
    return False


def render_job(dbs: Session, firm_id: uuid.UUID, job_id: uuid.UUID) -> str:
    """Render one job (idempotent): skip a ready one, else mark it rendering, render, write the file, mark ready.

    Commits its own state changes (it runs in a worker or as the request's last step). Returns the final status.
    """
    set_tenant(dbs, firm_id)
    job = dbs.scalar(tenant_select(ReportJob).where(ReportJob.id == job_id))
    if job is None:
        return "missing"
    path = report_path(firm_id, job.content_key)
    if job.status == "ready" and path.exists():
        return "ready"
    job.status, job.attempts, job.updated_at = "rendering", job.attempts + 1, utcnow()
    dbs.commit()
    delay = float(current_app.config.get("REPORT_RENDER_DELAY_S") or 0)
    if delay:
        time.sleep(delay)  # tests widen the window in which a worker can be killed mid-job
    try:
        pdf = _render(dbs, job)
    except Exception as exc:  # any failure is recorded on the job and shown with a retry button
        dbs.rollback()
        set_tenant(dbs, firm_id)
        job = dbs.scalar(tenant_select(ReportJob).where(ReportJob.id == job_id))
        job.status, job.error, job.updated_at = "failed", f"{type(exc).__name__}: {exc}"[:2000], utcnow()
        dbs.commit()
        current_app.logger.exception("report job %s failed", job_id)
        return "failed"
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_bytes(pdf)
    tmp.replace(path)  # atomic: a reader never sees half a file
    job.status, job.result_path, job.error, job.updated_at = "ready", str(path), None, utcnow()
    dbs.commit()
    return "ready"


def _render(dbs: Session, job: ReportJob) -> bytes:

    firm = dbs.get(Firm, job.firm_id)
    assessment = assessment_services.get_assessment(dbs, firm, job.assessment_id)
    snapshot = assessment_services.latest_snapshot(dbs, firm, assessment)
    instrument = instruments.engine_instrument(assessment.instrument_version)
    with force_locale(job.locale):
        context = report.build(dbs, firm, assessment, instrument, snapshot)
        pdf_context = report_context(context, firm_name=firm.name, benchmark=context["benchmark"])
        return render_pdf("firm_report.html", pdf_context, locale=job.locale)


def sweep(dbs: Session, older_than: timedelta) -> int:
    """Re-queue jobs stuck in queued or rendering longer than ``older_than`` (lost messages, killed workers)."""

    cutoff = utcnow() - older_than
    stmt = (
        select(ReportJob.firm_id, ReportJob.id)
        .where(ReportJob.status.in_(("queued", "rendering")), ReportJob.updated_at < cutoff)
        .execution_options(all_tenants=True)
    )
    with system_read(dbs):
        stuck = dbs.execute(stmt).all()
    url = jobs.redis_url()
    count = 0
    for firm_id, job_id in stuck:
        set_tenant(dbs, firm_id)
        job = dbs.scalar(tenant_select(ReportJob).where(ReportJob.id == job_id))
        job.status, job.updated_at = "queued", utcnow()
        if url is not None:
            jobs.enqueue_after_commit(dbs, url, TASK, str(firm_id), str(job_id), job_id=f"{job_id}-{job.attempts}-s")
        dbs.commit()
        count += 1
    set_tenant(dbs, None)
    return count


def job_state(job: ReportJob) -> dict[str, Any]:
    """Return what the status page shows."""
    return {"status": job.status, "attempts": job.attempts, "error": job.error}
