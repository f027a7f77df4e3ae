"""Evidence uploads: only real PDF, JPEG and PNG files, size- and pixel-limited, private to the firm and the bureau."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select

from saas.models import Evidence
from tests.conftest import app_session

MINIMAL_PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def png_bytes(size=(40, 30)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buf, "PNG")
    return buf.getvalue()


def jpeg_bytes() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (32, 32), (0, 120, 200)).save(buf, "JPEG")
    return buf.getvalue()


def upload(client, assessment_id, question_id, data: bytes, name: str):
    from werkzeug.datastructures import FileStorage
    from werkzeug.test import stream_encode_multipart

    token = client.csrf_token()
    file = FileStorage(stream=io.BytesIO(data), filename=name)
    fields = {"csrf_token": token, "question_id": question_id, "step": "1", "file": file}
    # Encode in memory: the test client would spool large bodies to a temporary file it never closes.
    stream, _length, boundary = stream_encode_multipart(fields, use_tempfile=False)
    return client.raw.post(
        f"/assessments/{assessment_id}/evidence",
        data=stream.getvalue(),
        content_type=f"multipart/form-data; boundary={boundary}",
    )


def _count(app, firm_id):
    with app_session(app, firm_id) as s:
        return s.scalar(select(func.count()).select_from(Evidence))


def _files(app):
    root = Path(app.config["EVIDENCE_DIR"])
    return {p for p in root.rglob("*") if p.is_file()} if root.exists() else set()


@pytest.fixture()
def draft(firm_a, start_assessment, client):
    assessment_id, questions = start_assessment(firm_a)
    client.login(firm_a.owner_email)
    return assessment_id, questions[0].id


@pytest.mark.parametrize(("data", "name"), [(MINIMAL_PDF, "制度文件.pdf"), (None, "screen.png"), (None, "photo.jpg")])
def test_real_files_are_stored_outside_the_web_root(app, client, firm_a, draft, data, name):
    assessment_id, qid = draft
    data = data or (png_bytes() if name.endswith(".png") else jpeg_bytes())
    response = upload(client, assessment_id, qid, data, name)
    assert response.status_code == 302
    with app_session(app, firm_a.id) as s:
        ev = s.scalar(select(Evidence))
    stored = Path(app.config["EVIDENCE_DIR"]) / str(firm_a.id) / ev.stored_name
    assert stored.read_bytes() == data and name not in ev.stored_name
    assert "static" not in str(stored)
    response = client.get(f"/assessments/{assessment_id}/evidence/{ev.id}")
    assert response.status_code == 200 and response.data == data
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    response.close()


def _bomb() -> bytes:
    buf = io.BytesIO()
    Image.new("1", (12000, 12000)).save(buf, "PNG")  # 144 megapixels in a few kilobytes
    return buf.getvalue()


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "chart.svg", "PDF"),
        (b"\x89PNG\r\n\x1a\n" + b"not really an image", "fake.png", "图片"),
        (b"MZ\x90\x00 executable", "report.pdf", "PDF"),
        (b"", "empty.pdf", "空"),
        ("bomb", "bomb.png", "图片"),
        ("big", "big.pdf", "MB"),
    ],
)
def test_bad_uploads_are_refused_and_nothing_is_stored(app, client, firm_a, draft, data, name, message):
    assessment_id, qid = draft
    if data == "bomb":
        data = _bomb()
    elif data == "big":
        data = MINIMAL_PDF + b"0" * app.config["EVIDENCE_MAX_BYTES"]
    before = _files(app)
    response = upload(client, assessment_id, qid, data, name)
    assert response.status_code == 302
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert message in page
    assert _count(app, firm_a.id) == 0 and _files(app) == before


def test_evidence_is_never_served_to_another_firm(app, client, make_client, firm_a, firm_b, draft):
    assessment_id, qid = draft
    upload(client, assessment_id, qid, png_bytes(), "a.png")
    with app_session(app, firm_a.id) as s:
        ev = s.scalar(select(Evidence))
    other = make_client()
    other.login(firm_b.owner_email)
    assert other.get(f"/assessments/{assessment_id}/evidence/{ev.id}").status_code == 404
    assert other.post(f"/assessments/{assessment_id}/evidence/{ev.id}/delete").status_code == 404
    assert _count(app, firm_a.id) == 1


def test_owner_can_remove_evidence_of_a_draft(app, client, firm_a, draft):
    assessment_id, qid = draft
    upload(client, assessment_id, qid, png_bytes(), "a.png")
    with app_session(app, firm_a.id) as s:
        ev = s.scalar(select(Evidence))
    path = Path(app.config["EVIDENCE_DIR"]) / str(firm_a.id) / ev.stored_name
    client.post(f"/assessments/{assessment_id}/evidence/{ev.id}/delete")
    assert _count(app, firm_a.id) == 0 and not path.exists()
