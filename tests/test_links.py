"""Trusted links: every URL that leaves the site comes from PUBLIC_BASE_URL (saas/core/links.py), whatever Host the
client sends; production refuses unknown hosts with 400 and stores nothing; redirect targets stay on the site."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from sqlalchemy import select

from config import ProductionConfig, TestingConfig
from saas.models import AuthToken, EmailMessage
from tests.conftest import CSRF_RE, PASSWORD, ROOT, Client, app_session, valid_uscc

BASE = "https://jx.example"
ATTACKER = "attacker.example"
URL_RE = re.compile(r"https?://[^\s<>\"']+")


def _forged_client(app, host: str = ATTACKER) -> Client:
    """A test client whose every request says ``Host: <host>`` (its cookies belong to that host too)."""
    from flask.testing import FlaskClient

    class Forged(FlaskClient):
        def open(self, *args, **kwargs):  # type: ignore[no-untyped-def]
            kwargs.setdefault("base_url", f"http://{host}")
            return super().open(*args, **kwargs)

    app.test_client_class = Forged
    try:
        return Client(app.test_client())
    finally:
        app.test_client_class = None


def _bodies(app, to: str) -> list[str]:
    with app_session(app) as s:
        stmt = select(EmailMessage.body).where(EmailMessage.to == to).order_by(EmailMessage.created_at)
        return list(s.scalars(stmt))


def _urls(text: str) -> list[str]:
    return URL_RE.findall(text)


@pytest.fixture()
def linked_app(make_app):
    """The testing app (any Host accepted) with a public base URL that differs from every request's host."""
    return make_app(TestingConfig, PUBLIC_BASE_URL=BASE)


def test_account_mails_link_to_the_public_base_whatever_the_host(app, linked_app, make_client):
    client = _forged_client(linked_app)
    email = f"owner-{uuid.uuid4().hex[:8]}@links.example"
    response = client.post(
        "/auth/register",
        {
            "firm_name": "嘉兴链接测试丝绸有限公司",
            "uscc": valid_uscc(880001),
            "industry": "silk",
            "county": "nanhu",
            "employees": "30",
            "revenue_wan": "500",
            "contact_name": "钱丽",
            "owner_name": "钱丽",
            "email": email,
            "password": PASSWORD,
            "password_confirm": PASSWORD,
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    invited = f"colleague-{uuid.uuid4().hex[:8]}@links.example"
    assert client.post("/firm/members/invite", {"email": invited, "role": "member"}).status_code == 302
    client.logout()
    assert client.post("/auth/forgot", {"email": email}).status_code == 200

    [verify, reset] = _bodies(app, email)
    [invitation] = _bodies(app, invited)
    for body, path in ((verify, "/auth/verify/"), (reset, "/auth/reset/"), (invitation, "/auth/invitation/")):
        urls = _urls(body)
        assert urls and all(u.startswith(BASE + "/") for u in urls), urls
        assert ATTACKER not in body
        assert any(u.startswith(BASE + path) for u in urls), urls
    # the emailed reset link is the real one: its path opens the reset form
    reset_path = next(u for u in _urls(reset) if "/auth/reset/" in u).removeprefix(BASE)
    assert make_client().get(reset_path).status_code == 200


def test_trade_mails_sitemap_and_api_link_to_the_public_base(app, linked_app, firm_b, create_user, publish_product):
    from tests.test_rfqs import CREPE, _good_quote, _good_rfq

    product_id = publish_product(firm_b, "链接测试真丝双绉", category=CREPE)
    buyer = create_user("buyer")
    buyer_client = _forged_client(linked_app)
    buyer_client.login(buyer["email"])
    ask = buyer_client.post(f"/market/products/{product_id}/inquiry", {"body": "请问起订量多少？", "quantity": "100"})
    assert ask.status_code == 302
    rfq = buyer_client.post("/rfqs/new", _good_rfq())
    assert rfq.status_code == 302
    rfq_id = rfq.headers["Location"].rsplit("/", 1)[-1]
    supplier_client = _forged_client(linked_app)
    supplier_client.login(firm_b.owner_email)
    assert supplier_client.post(f"/firm/rfqs/{rfq_id}", _good_quote()).status_code == 302

    supplier_mail = [b for b in _bodies(app, firm_b.owner_email) if "/auth/verify/" not in b]  # the inquiry
    buyer_mail = _bodies(app, buyer["email"])  # the quote
    assert len(supplier_mail) == 1 and len(buyer_mail) == 1 and f"/rfqs/{rfq_id}" in buyer_mail[0]
    for body in supplier_mail + buyer_mail:
        urls = _urls(body)
        assert urls and all(u.startswith(BASE + "/") for u in urls), urls

    sitemap = _forged_client(linked_app).get("/sitemap.xml").get_data(as_text=True)
    locs = re.findall(r"<loc>([^<]+)</loc>", sitemap)
    assert locs and all(u.startswith(BASE + "/") for u in locs) and ATTACKER not in sitemap
    assert f"{BASE}/market/products/{product_id}" in locs

    items = _forged_client(linked_app).get("/api/v1/products?q=链接测试").get_json()["items"]
    assert items and all(item["url"] == f"{BASE}/market/products/{item['id']}" for item in items)


def test_external_url_works_outside_a_request(linked_app):
    """The worker and the CLI build links with an app context only (no request, no SERVER_NAME)."""
    from saas.core.links import external_url, public_request_context

    with linked_app.app_context():
        assert external_url("market.home") == f"{BASE}/market/"
        assert external_url("market.search", q="真丝") == f"{BASE}/market/search?q=%E7%9C%9F%E4%B8%9D"
    with public_request_context(linked_app):
        from flask import url_for

        assert url_for("market.home", _external=True) == f"{BASE}/market/"


def test_a_base_url_with_a_path_prefix_keeps_it(make_app):
    from saas.core.links import external_url

    other = make_app(TestingConfig, PUBLIC_BASE_URL="https://gov.example/jx/")
    with other.app_context():
        assert external_url("auth.reset_password", token="abc") == "https://gov.example/jx/auth/reset/abc"


@pytest.fixture()
def production(monkeypatch, database_urls, make_app):
    def _make(**env: str):
        monkeypatch.setenv("SECRET_KEY", "x" * 32)
        monkeypatch.setenv("DATABASE_URL", database_urls.app)
        monkeypatch.setenv("PUBLIC_BASE_URL", BASE)
        monkeypatch.delenv("TRUSTED_HOSTS", raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return make_app(ProductionConfig, RATELIMIT_STORAGE="memory")

    return _make


def _tokens(app) -> int:
    with app_session(app) as s:
        return len(s.scalars(select(AuthToken.id).where(AuthToken.purpose == "reset_password")).all())


def test_production_refuses_a_forged_host_and_mails_nothing(app, production, firm_a):
    prod = production()
    assert prod.config["TRUSTED_HOSTS"] == ["jx.example"]
    forged = prod.test_client()
    for method, path in (("get", "/"), ("get", "/auth/login"), ("post", "/auth/forgot"), ("get", "/api/v1/products")):
        response = getattr(forged, method)(path, base_url=f"https://{ATTACKER}", data={"email": firm_a.owner_email})
        assert response.status_code == 400, (method, path, response.status_code)
        assert "host" in response.get_data(as_text=True).lower() or "主机" in response.get_data(as_text=True)
    assert _tokens(app) == 0 and _bodies(app, firm_a.owner_email)[1:] == []

    real = prod.test_client()
    page = real.get("/auth/forgot", base_url=BASE).get_data(as_text=True)
    token = CSRF_RE.search(page).group(1)
    data = {"email": firm_a.owner_email, "csrf_token": token}
    response = real.post("/auth/forgot", base_url=BASE, data=data, headers={"Referer": BASE + "/auth/forgot"})
    assert response.status_code == 200 and _tokens(app) == 1
    reset = _bodies(app, firm_a.owner_email)[-1]
    assert re.search(rf"{re.escape(BASE)}/auth/reset/\S+", reset) and ATTACKER not in reset


def test_trusted_hosts_come_from_the_environment(production):
    prod = production(TRUSTED_HOSTS=".jx.example, jx-backup.example")
    client = prod.test_client()
    assert client.get("/healthz", base_url="https://www.jx.example").status_code == 200
    assert client.get("/healthz", base_url="https://jx-backup.example:8443").status_code == 200
    assert client.get("/healthz", base_url="https://jx.example.attacker.example").status_code == 400


@pytest.mark.parametrize("value", [None, "jx.example", "ftp://jx.example", "https://"])
def test_production_needs_an_absolute_public_base_url(monkeypatch, value):
    from saas.app import create_app

    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    monkeypatch.setenv("DATABASE_URL", "sqlite:///:memory:")
    if value is None:
        monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    else:
        monkeypatch.setenv("PUBLIC_BASE_URL", value)
    with pytest.raises(RuntimeError, match="PUBLIC_BASE_URL"):
        create_app(ProductionConfig)


def test_no_url_leaves_the_site_except_through_the_helper():
    """``_external=True``, ``url_root`` and ``host_url`` build on the request's Host; only core/links.py builds URLs."""
    pattern = re.compile(r"_external\s*=\s*True|\.url_root\b|\.host_url\b|PUBLIC_BASE_URL")
    offenders = []
    for path in sorted((ROOT / "saas").rglob("*.py")) + sorted((ROOT / "templates").rglob("*.*")):
        if path.name == "links.py" or "translations" in path.parts:
            continue
        for number, line in enumerate(Path(path).read_text("utf-8").splitlines(), 1):
            if pattern.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{number}: {line.strip()}")
    assert offenders == []


def test_an_untrusted_host_is_refused_before_the_page_cache(production):
    prod = production(PUBLIC_PAGE_CACHE_SECONDS="60")
    names = [f.__name__ for f in prod.before_request_funcs[None]]
    assert names[:3] == ["refuse_untrusted_host", "refuse_control_characters_in_query", "serve_hit"]
    client = prod.test_client()
    assert client.get("/", base_url=BASE).status_code == 200  # now cached for visitors
    assert client.get("/", base_url=f"https://{ATTACKER}").status_code == 400
    assert client.get("/?q=%00", base_url=BASE).status_code == 400
