"""Redirect targets that the user supplies (``back``, ``next``, the referrer) stay on the site: one helper for all."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from saas.core.links import safe_redirect_target
from saas.models import Evidence
from tests.conftest import app_session
from tests.test_evidence import MINIMAL_PDF, upload

OFFSITE = [
    "https://evil.example/x",
    "//evil.example/x",
    "\\\\evil.example\\x",
    "/\\evil.example",
    "/\t/evil.example",
    "/\n/evil.example",
    "javascript:alert(1)",
    "evil.example/x",
    "http:/evil.example",
    " //evil.example",
]


@pytest.mark.parametrize("target", OFFSITE)
def test_offsite_targets_are_refused(target):
    assert safe_redirect_target(target) is None


@pytest.mark.parametrize("target", ["/", "/firm/", "/market/search?q=%E7%9C%9F%E4%B8%9D&page=2", "/a#b"])
def test_paths_on_the_site_are_kept(target):
    assert safe_redirect_target(target) == target


def _stays(response, default_path: str) -> None:
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.netloc in ("", "localhost") and location.path == default_path, response.headers["Location"]


def test_evidence_delete_redirects_only_on_the_site(app, client, firm_a, start_assessment):
    assessment_id, questions = start_assessment(firm_a)
    client.login(firm_a.owner_email)
    resume = f"/assessments/{assessment_id}/"
    for back in [*OFFSITE, f"/assessments/{assessment_id}/step/1"]:
        assert upload(client, assessment_id, questions[0].id, MINIMAL_PDF, "制度.pdf").status_code == 302
        with app_session(app, firm_a.id) as s:
            evidence_id = s.scalar(select(Evidence.id))
        response = client.post(f"/assessments/{assessment_id}/evidence/{evidence_id}/delete", {"back": back})
        _stays(response, back if back.startswith("/assessments/") else resume)
        with app_session(app, firm_a.id) as s:
            assert s.scalar(select(func.count()).select_from(Evidence)) == 0


def test_evidence_upload_error_redirect_survives_a_hostile_question_id(app, client, firm_a, start_assessment):
    assessment_id, _questions = start_assessment(firm_a)
    client.login(firm_a.owner_email)
    response = upload(client, assessment_id, "x\r\nLocation: https://evil.example", MINIMAL_PDF, "a.pdf")
    assert response.status_code == 302
    location = response.headers["Location"]
    assert urlsplit(location).path == f"/assessments/{assessment_id}/step/1" and "\n" not in location


@pytest.mark.parametrize("target", OFFSITE)
def test_login_language_and_compare_redirects_stay_on_the_site(client, firm_a, publish_product, target):
    product_id = publish_product(firm_a)
    response = client.post("/language", {"lang": "en", "next": target}, csrf=False)
    _stays(response, "/")
    response = client.post(f"/auth/login?next={target}", {"email": firm_a.owner_email, "password": "wrong"})
    assert response.status_code == 200
    response = client.raw.post(
        "/auth/login?" + f"next={target}",
        data={
            "email": firm_a.owner_email,
            "password": "correct horse battery staple",
            "csrf_token": client.csrf_token(),
        },
    )
    _stays(response, "/firm/")
    response = client.post(f"/compare/{product_id}", {"action": "add", "next": target})
    _stays(response, "/compare")
