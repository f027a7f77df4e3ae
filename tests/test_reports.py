"""Firm PDF reports: rendering, the content-keyed cache, retry, and privacy of the PDF text."""

from __future__ import annotations

import re
import shutil
import subprocess

from sqlalchemy import select

from saas.models import ReportJob
from tests.conftest import app_session, grant_pro, service_missing


def _pdf_text(data: bytes, tmp_path) -> str:
    if shutil.which("pdftotext") is None:
        service_missing("pdftotext (poppler-utils) is not installed")
    path = tmp_path / "report.pdf"
    path.write_bytes(data)
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def _request(client, assessment_id):
    response = client.post(f"/benchmarking/{assessment_id}/pdf")
    assert response.status_code == 302
    status_url = response.headers["Location"]
    page = client.get(status_url).get_data(as_text=True)
    return status_url, page


def test_pdf_is_rendered_once_then_served_from_the_cache(app, client, create_firm, quick_submission, tmp_path):
    peers = [create_firm(name=f"桐乡缓存{i}丝绸有限公司", county="tongxiang") for i in range(11)]
    for i, firm in enumerate(peers):
        quick_submission(firm, 0.2 + 0.05 * i, i)
    me = peers[3]
    with app_session(app, me.id) as s:
        from saas.models import Assessment

        assessment_id = s.scalar(select(Assessment.id))
    grant_pro(app, me.id)
    client.login(me.owner_email)
    status_url, page = _request(client, assessment_id)
    assert 'data-status="ready"' in page
    response = client.get(status_url + "/file")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")
    assert response.headers["Content-Disposition"].startswith("attachment")
    text = _pdf_text(response.data, tmp_path)
    assert me.name in text
    for other in peers:
        if other.id != me.id:
            assert other.name not in text  # peers appear only as aggregates
    response.close()
    # asking again reuses the same job and file: no second render
    again_url, _page = _request(client, assessment_id)
    assert again_url == status_url
    with app_session(app, me.id) as s:
        jobs = s.scalars(select(ReportJob)).all()
    assert len(jobs) == 1 and jobs[0].attempts == 1 and jobs[0].status == "ready"


def test_failed_job_shows_retry_and_recovers(app, client, firm_a, quick_submission, monkeypatch):
    assessment_id = quick_submission(firm_a, 0.5)
    grant_pro(app, firm_a.id)
    client.login(firm_a.owner_email)
    from saas.reports import services as reports

    def broken(*_args, **_kwargs):
        raise RuntimeError("renderer down")

    monkeypatch.setattr(reports, "_render", broken)
    status_url, page = _request(client, assessment_id)
    assert 'data-status="failed"' in page and 'id="retry-pdf"' in page
    monkeypatch.undo()
    job_id = re.search(r"/pdf/([0-9a-f-]+)$", status_url).group(1)
    response = client.post(f"/benchmarking/{assessment_id}/pdf/{job_id}/retry")
    assert 'data-status="ready"' in client.get(response.headers["Location"]).get_data(as_text=True)
