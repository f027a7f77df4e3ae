"""Web baseline: CSRF on every POST, no state-changing GET, security headers, cookies and error pages."""

from __future__ import annotations

import uuid

import pytest

from config import ProductionConfig
from saas.app import create_app

STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
# GET routes that also accept POST are form pages: GET renders, POST acts (checked below to change nothing on GET).
FORM_PAGES = {
    "auth.login",
    "auth.two_factor",
    "auth.two_factor_setup",
    "auth.register",
    "auth.register_buyer",
    "auth.verify_email",
    "auth.forgot_password",
    "auth.reset_password",
    "auth.accept_invitation",
    "orgs.profile",
    "account.two_factor",
    "assessments.step",
    "assessments.review",
    "products.new",
    "products.edit",
    "inquiries.new",
    "inquiries.buyer_thread",  # GET marks the thread read: an idempotent timestamp, like opening an email
    "inquiries.supplier_thread",
    "rfqs.new",
    "rfqs.firm_detail",
    "programme.apply",  # the form's GET only reads (a draft starts on the first save)
    "programme.new_round",
    "programme.edit_round",
    "programme.staff_application",
    "programme.review",
    "programme.follow_up",  # the form's GET only reads
    "billing_bureau.vouchers",
}


def _build(rule):
    values = {}
    for arg in rule.arguments:
        converter = rule._converters[arg].__class__.__name__
        values[arg] = {"UUIDConverter": uuid.uuid4(), "IntegerConverter": 1}.get(converter, "x")
    return rule.build(values)[1]


def _rules(app, method):
    return sorted(
        (r for r in app.url_map.iter_rules() if method in r.methods and r.endpoint != "static"), key=lambda r: r.rule
    )


def test_every_post_route_rejects_a_missing_csrf_token(app, client, firm_a):
    client.login(firm_a.owner_email)
    rules = _rules(app, "POST")
    assert len(rules) >= 15
    for rule in rules:
        if rule.endpoint == "billing.webhook":
            continue  # the one CSRF-exempt route: Stripe's signature replaces the token (tests/billing)
        response = client.post(_build(rule), {"email": "a@b.example"}, csrf=False)
        assert response.status_code == 400, f"{rule.rule} accepted a POST without CSRF token"
        assert "表单已过期" in response.get_data(as_text=True) or "表单" in response.get_data(as_text=True)


def test_no_route_changes_state_on_get(app):
    for rule in app.url_map.iter_rules():
        methods = rule.methods - {"HEAD", "OPTIONS"}
        if "GET" in methods and methods & STATE_CHANGING:
            assert rule.endpoint in FORM_PAGES, f"{rule.endpoint} mixes GET with a state-changing method"
        assert not (methods & {"PUT", "PATCH", "DELETE"}), rule.endpoint


def test_get_form_pages_leave_the_database_unchanged(app, client):
    from sqlalchemy import func, select

    from saas.models import AuditEvent, EmailMessage, User, UserSession
    from tests.conftest import app_session

    def counts():
        with app_session(app) as s:
            return [
                s.scalar(select(func.count()).select_from(m)) for m in (User, UserSession, EmailMessage, AuditEvent)
            ]

    before = counts()
    for rule in _rules(app, "GET"):
        if not rule.arguments:
            client.get(_build(rule))
    assert counts() == before


def _get_routes(app):
    return [r.rule for r in _rules(app, "GET") if not r.arguments]


def test_security_headers_on_every_response(app, client):
    for path in [*_get_routes(app), "/no-such-page", "/static/css/app.css"]:
        response = client.get(path)
        headers = response.headers
        csp = headers.get("Content-Security-Policy", "")
        assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp and "default-src 'self'" in csp, path
        assert "'unsafe-inline'" not in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Strict-Transport-Security"].startswith("max-age=31536000")
        assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert headers["X-Frame-Options"] == "DENY"
        response.close()


def test_production_refuses_to_start_without_secrets(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(ProductionConfig)  # refuses before any engine exists


def test_production_cookies_are_secure_httponly_samesite(monkeypatch, database_urls, make_app):
    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    monkeypatch.setenv("DATABASE_URL", database_urls.app)
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://jx.example")
    monkeypatch.setenv("RATELIMIT_STORAGE", "memory")
    prod = make_app(ProductionConfig, RATELIMIT_STORAGE="memory")
    response = prod.test_client().get("/auth/login", base_url="https://jx.example")
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-session=")
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    assert "Domain" not in cookie


def test_not_found_page_is_localised(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "页面不存在" in response.get_data(as_text=True) or "未找到" in response.get_data(as_text=True)


def test_server_error_page_shows_no_traceback(make_app):
    other = make_app(PROPAGATE_TEST_ERRORS=False)

    @other.get("/__boom")
    def _boom():  # pragma: no cover - body raises
        raise RuntimeError("secret internals")

    response = other.test_client().get("/__boom")
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "secret internals" not in body and "Traceback" not in body
    assert "系统出现错误" in body


def test_unknown_user_cannot_reach_firm_or_bureau_pages(client):
    for path in ("/firm/", "/firm/members", "/account/", "/bureau/"):
        response = client.get(path)
        assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_buyer_gets_403_on_firm_and_bureau_pages(client, create_user):
    buyer = create_user("buyer")
    client.login(buyer["email"])
    assert client.get("/firm/").status_code == 403
    assert client.get("/bureau/").status_code == 403


def test_user_text_is_escaped(app, client, create_firm):
    firm = create_firm(name='<script>alert("x")</script>丝绸')
    client.login(firm.owner_email)
    html = client.get("/firm/").get_data(as_text=True)
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html


def test_form_fields_carry_no_none_attributes(client):
    for url in ("/auth/login", "/auth/register", "/auth/register/buyer"):
        html = client.get(url).get_data(as_text=True)
        assert '="None"' not in html, url
    bad = client.post("/auth/register", {"firm_name": "x"}).get_data(as_text=True)
    assert 'aria-invalid="true"' in bad and '="None"' not in bad


def _example_url(app, rule) -> str | None:
    """A URL that the rule matches, with made-up values for its arguments."""
    import uuid

    from werkzeug.routing import AnyConverter, IntegerConverter, UUIDConverter

    values = {}
    for name in rule.arguments:
        converter = rule._converters.get(name)
        if isinstance(converter, UUIDConverter):
            values[name] = uuid.UUID(int=0)
        elif isinstance(converter, IntegerConverter):
            values[name] = 1
        elif isinstance(converter, AnyConverter):
            values[name] = sorted(converter.items)[0] if hasattr(converter, "items") else None
        else:
            values[name] = "x"
    if any(v is None for v in values.values()):
        return None
    with app.test_request_context():
        return app.url_map.bind("localhost").build(rule.endpoint, values, method=sorted(rule.methods)[0])


def test_every_405_names_the_allowed_methods(app, client):
    """RFC 9110: a 405 answer carries Allow; the localised error page must keep the exception's header."""
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        url = _example_url(app, rule)
        if url is None:
            continue
        allowed = set(app.url_map.bind("localhost").allowed_methods(url))
        method = next(m for m in ("PUT", "DELETE", "PATCH") if m not in allowed)
        response = client.raw.open(url, method=method)
        assert response.status_code == 405, (url, method, response.status_code)
        assert response.headers.get("Allow"), url
        assert set(response.headers["Allow"].replace(" ", "").split(",")) == allowed, url
        assert response.is_json == url.startswith("/api/"), url
        checked += 1
    assert checked > 50
