"""Background rendering with a real RQ worker process: a job lost to SIGKILL is re-queued and completes once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from config import TestingConfig
from tests.conftest import PASSWORD, ROOT, fill_answers, fresh_database, service_missing, valid_uscc

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
pytestmark = pytest.mark.redis


def _redis():
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as exc:
        service_missing(f"Redis not reachable at {REDIS_URL}: {exc}")
    return client


def _worker(urls, reports_dir: Path, *, delay: str = "0", burst: bool = False) -> subprocess.Popen:
    env = dict(os.environ)
    env.update(
        APP_ENV="development",
        DATABASE_URL=urls.app,
        REDIS_URL=REDIS_URL,
        RATELIMIT_STORAGE="memory",
        REPORTS_DIR=str(reports_dir),
        REPORT_RENDER_DELAY_S=delay,
        PYTHONPATH=str(ROOT),
    )
    args = [sys.executable, "-m", "rq.cli", "worker", "reports", "--url", REDIS_URL, "--logging_level", "WARNING"]
    if burst:
        args.append("--burst")
    return subprocess.Popen(
        args, cwd=ROOT, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def _status(app, firm_id, job_id):
    from saas.core.extensions import db
    from saas.core.tenancy import set_tenant
    from saas.models import ReportJob

    with app.app_context():
        s = db.new_session()
        try:
            set_tenant(s, firm_id)
            job = s.scalar(select(ReportJob).where(ReportJob.id == job_id))
            return job.status, job.attempts
        finally:
            s.close()


def test_killed_worker_job_is_requeued_by_the_sweeper_and_completes_once(tmp_path):
    redis_client = _redis()
    redis_client.flushdb()
    urls = fresh_database("jx_test_worker")
    from saas.app import create_app
    from saas.assessments import services as assessment_services
    from saas.auth.services import register_firm
    from saas.benchmarking.services import benchmark_for
    from saas.core.extensions import db
    from saas.core.tenancy import set_tenant
    from saas.models import utcnow
    from saas.reports import services as reports

    reports_dir = tmp_path / "reports"
    app = create_app(
        TestingConfig,
        SQLALCHEMY_DATABASE_URI=urls.app,
        REPORTS_SYNC=False,
        REDIS_URL=REDIS_URL,
        REPORTS_DIR=str(reports_dir),
    )
    import random

    rng = random.Random(3)
    with app.test_request_context():
        s = db.session
        firm, user = register_firm(
            s,
            firm_name="海盐后台渲染有限公司",
            uscc=valid_uscc(55501, "haiyan"),
            industry="wood",
            county="haiyan",
            park=None,
            employees=40,
            revenue_wan=600,
            contact_name="周",
            contact_phone=None,
            owner_name="周",
            email="worker@haiyan.example",
            password=PASSWORD,
        )
        set_tenant(s, firm.id, user.id)
        assessment = assessment_services.start_assessment(s, firm, user, utcnow().date())
        fill_answers(s, assessment, 0.4, rng)
        snapshot = assessment_services.submit_assessment(s, firm, user, assessment)
        bench = benchmark_for(s, firm, snapshot, assessment.instrument_version)
        key = reports.content_key(snapshot, bench.stats_version if bench else 0, "zh_CN")
        job, render_now = reports.request_report(s, firm, user, assessment, key, "zh_CN")
        assert render_now is False  # Redis is there: the job goes to the queue after commit
        s.commit()
        firm_id, job_id = firm.id, job.id
    assert redis_client.llen("rq:queue:reports") == 1

    slow = _worker(urls, reports_dir, delay="30")
    try:
        deadline = time.time() + 60
        while _status(app, firm_id, job_id)[0] != "rendering":
            assert time.time() < deadline, "the worker never picked the job up"
            time.sleep(0.2)
    finally:
        os.killpg(slow.pid, signal.SIGKILL)  # the worker and its work horse die mid-job
        slow.wait(timeout=10)
    assert _status(app, firm_id, job_id) == ("rendering", 1)

    with app.app_context():
        s = db.new_session()
        try:
            assert reports.sweep(s, older_than=timedelta(seconds=0)) == 1
        finally:
            s.close()
    fast = _worker(urls, reports_dir, burst=True)
    assert fast.wait(timeout=120) == 0
    assert _status(app, firm_id, job_id) == ("ready", 2)
    files = list((reports_dir / str(firm_id)).iterdir())
    assert [f.suffix for f in files] == [".pdf"] and files[0].read_bytes().startswith(b"%PDF")
    # a duplicate delivery of the same job renders nothing new
    with app.app_context():
        s = db.new_session()
        try:
            assert reports.render_job(s, firm_id, job_id) == "ready"
        finally:
            s.close()
    assert _status(app, firm_id, job_id) == ("ready", 2)
    app.extensions["database"][0].dispose()
    redis_client.flushdb()
    redis_client.close()
