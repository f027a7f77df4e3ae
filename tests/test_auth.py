"""Registration, login, logout, sessions, passwords and resets through the real stack."""

from __future__ import annotations

import re

from sqlalchemy import select

from saas.models import AuthToken, EmailMessage, Firm, Membership, User, UserSession
from tests.conftest import PASSWORD, app_session, valid_uscc

REGISTRATION = {
    "firm_name": "桐乡新华丝绸有限公司",
    "industry": "silk",
    "county": "tongxiang",
    "park": "濮院毛衫时尚小镇",
    "employees": "120",
    "revenue_wan": "1500",
    "contact_name": "李丽",
    "contact_phone": "0573-88886666",
    "owner_name": "李丽",
    "email": "li.li@xinhua-silk.example",
    "password": PASSWORD,
    "password_confirm": PASSWORD,
}


def register(client, **overrides):
    data = {**REGISTRATION, "uscc": valid_uscc(424242, "tongxiang"), **overrides}
    return client.post("/auth/register", data)


def test_register_firm_creates_tenant_owner_and_verification_mail(app, client):
    response = register(client)
    assert response.status_code == 302 and response.headers["Location"].endswith("/firm/")
    page = client.get("/firm/").get_data(as_text=True)
    assert "桐乡新华丝绸有限公司" in page
    with app_session(app) as s:
        firm = s.scalar(select(Firm).where(Firm.name == "桐乡新华丝绸有限公司"))
        assert firm.size_class == "small" and firm.county == "tongxiang" and firm.park == "濮院毛衫时尚小镇"
        user = s.scalar(select(User).where(User.email == "li.li@xinhua-silk.example"))
        assert user.kind == "firm" and user.password_hash.startswith("$argon2id$")
        from saas.core.tenancy import set_tenant

        set_tenant(s, firm.id)
        membership = s.scalar(select(Membership).where(Membership.user_id == user.id))
        assert membership.role == "owner"
        mail = s.scalar(select(EmailMessage).where(EmailMessage.to == user.email))
        assert "/auth/verify/" in mail.body


def test_bad_uscc_is_rejected_with_a_clear_chinese_message(app, client):
    good = valid_uscc(7, "nanhu")
    bad_check = good[:17] + ("0" if good[17] != "0" else "1")
    response = register(client, uscc=bad_check)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "校验码" in html  # "the check character does not match"
    assert 'id="uscc-error"' in html
    assert "桐乡新华丝绸有限公司" in html  # the rest of the input is kept
    short = register(client, uscc="91330400ABC").get_data(as_text=True)
    assert "18" in short and "统一社会信用代码" in short
    letters = register(client, uscc="91330400MA2BOIZ00X").get_data(as_text=True)
    assert "不允许" in letters or "字符" in letters
    with app_session(app) as s:
        assert s.scalar(select(Firm).where(Firm.name == "桐乡新华丝绸有限公司")) is None


def test_duplicate_uscc_and_email_are_refused(client, firm_a, app):
    with app_session(app) as s:
        uscc = s.get(Firm, firm_a.id).uscc
    html = register(client, uscc=uscc).get_data(as_text=True)
    assert 'id="uscc-error"' in html
    html = register(client, email=firm_a.owner_email.upper()).get_data(as_text=True)
    assert 'id="email-error"' in html


def test_weak_password_is_refused(client):
    html = register(client, password="12345678", password_confirm="12345678").get_data(as_text=True)
    assert 'id="password-error"' in html


def test_login_logout_and_old_cookie_is_dead(client, firm_a, app):
    response = client.login(firm_a.owner_email)
    assert response.status_code == 302 and response.headers["Location"].endswith("/firm/")
    cookie = client.raw.get_cookie("session")
    assert client.get("/firm/").status_code == 200
    client.logout()
    assert client.get("/firm/").status_code == 302
    # Replaying the cookie from before logout does not bring the session back: it is revoked on the server.
    client.raw.set_cookie("session", cookie.value)
    response = client.get("/firm/")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_wrong_password_and_unknown_account_look_the_same(client, firm_a):
    wrong = client.login(firm_a.owner_email, "not the password at all").get_data(as_text=True)
    unknown = client.login("nobody@nowhere.example", "not the password at all").get_data(as_text=True)
    assert "邮箱或密码不正确" in wrong or "incorrect" in wrong
    strip = lambda html: re.sub(r'value="[^"]*"', "", html)  # noqa: E731
    assert strip(wrong).replace(firm_a.owner_email, "") == strip(unknown).replace("nobody@nowhere.example", "")


def test_password_change_revokes_other_sessions(make_client, firm_a, app):
    laptop, phone = make_client(), make_client()
    laptop.login(firm_a.owner_email)
    phone.login(firm_a.owner_email)
    new = "a much longer new passphrase"
    response = laptop.post(
        "/account/password", {"current_password": PASSWORD, "password": new, "password_confirm": new}
    )
    assert response.status_code == 302
    assert laptop.get("/firm/").status_code == 200
    assert phone.get("/firm/").status_code == 302
    assert make_client().login(firm_a.owner_email, new).status_code == 302


def test_password_is_rehashed_when_parameters_change(app, client, firm_a):
    with app_session(app) as s:
        old_hash = s.scalar(select(User.password_hash).where(User.id == firm_a.owner_id))
    assert "m=8192" in old_hash
    app.config["ARGON2_MEMORY_COST"] = 9216
    try:
        assert client.login(firm_a.owner_email).status_code == 302
    finally:
        app.config["ARGON2_MEMORY_COST"] = 8192
    with app_session(app) as s:
        new_hash = s.scalar(select(User.password_hash).where(User.id == firm_a.owner_id))
    assert new_hash.startswith("$argon2id$") and "m=9216" in new_hash


def test_login_is_rate_limited_per_account(make_client, firm_a):
    for _ in range(5):
        assert make_client().login(firm_a.owner_email, "wrong password here").status_code == 200
    response = make_client().login(firm_a.owner_email, "wrong password here")
    assert response.status_code == 429
    assert "尝试次数过多" in response.get_data(as_text=True)


def test_login_is_rate_limited_per_ip(client, app):
    app.config["RATELIMIT_LOGIN_PER_IP"] = "3 per minute"
    try:
        for i in range(3):
            assert client.login(f"user{i}@example.example", "wrong password").status_code == 200
        assert client.login("user9@example.example", "wrong password").status_code == 429
    finally:
        app.config["RATELIMIT_LOGIN_PER_IP"] = "20 per 10 minutes"


def _reset_link(app, email):
    with app_session(app) as s:
        body = s.scalars(select(EmailMessage.body).where(EmailMessage.to == email)).all()[-1]
    return re.search(r"http://[^\s]+/auth/reset/(\S+)", body).group(1)


def test_password_reset_is_single_use_and_answers_the_same_for_unknown_emails(app, client, make_client, firm_a):
    other = make_client()
    other.login(firm_a.owner_email)
    known = client.post("/auth/forgot", {"email": firm_a.owner_email}).get_data(as_text=True)
    unknown = client.post("/auth/forgot", {"email": "ghost@nowhere.example"}).get_data(as_text=True)
    assert known.replace(firm_a.owner_email, "X") == unknown.replace("ghost@nowhere.example", "X")
    token = _reset_link(app, firm_a.owner_email)
    with app_session(app) as s:
        stored = s.scalars(select(AuthToken.token_hash).where(AuthToken.purpose == "reset_password")).all()
    assert token not in stored and len(stored[-1]) == 64  # only the SHA-256 is stored
    new = "brand new secret phrase"
    response = client.post(f"/auth/reset/{token}", {"password": new, "password_confirm": new})
    assert response.status_code == 302
    assert other.get("/firm/").status_code == 302  # every session revoked
    again = client.post(f"/auth/reset/{token}", {"password": new, "password_confirm": new})
    assert again.status_code == 400
    assert client.login(firm_a.owner_email, new).status_code == 302


def test_expired_reset_token_is_refused(app, client, firm_a):
    from datetime import timedelta

    client.post("/auth/forgot", {"email": firm_a.owner_email})
    token = _reset_link(app, firm_a.owner_email)
    with app_session(app) as s:
        row = s.scalars(select(AuthToken).where(AuthToken.purpose == "reset_password")).all()[-1]
        row.expires_at = row.created_at - timedelta(seconds=1)
        row_id = row.id
    assert client.get(f"/auth/reset/{token}").status_code == 400
    new = "a brand new passphrase 2026"
    assert client.post(f"/auth/reset/{token}", {"password": new, "password_confirm": new}).status_code == 400
    with app_session(app) as s:
        assert s.get(AuthToken, row_id).used_at is None  # the expired token was not spent
    assert client.login(firm_a.owner_email, new).status_code != 302  # the password did not change
    assert client.login(firm_a.owner_email).status_code == 302


def test_email_verification_needs_a_post(app, client, firm_a):
    with app_session(app) as s:
        body = s.scalar(select(EmailMessage.body).where(EmailMessage.to == firm_a.owner_email))
    token = re.search(r"/auth/verify/(\S+)", body).group(1)
    assert client.get(f"/auth/verify/{token}").status_code == 200
    with app_session(app) as s:
        assert s.get(User, firm_a.owner_id).email_verified_at is None  # GET changed nothing
    client.post(f"/auth/verify/{token}")
    with app_session(app) as s:
        assert s.get(User, firm_a.owner_id).email_verified_at is not None


def test_next_parameter_refuses_other_sites(client, firm_a):
    for evil in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        client.logout()
        response = client.post(f"/auth/login?next={evil}", {"email": firm_a.owner_email, "password": PASSWORD})
        assert response.headers["Location"].endswith("/firm/")
    client.logout()
    response = client.post("/auth/login?next=/firm/members", {"email": firm_a.owner_email, "password": PASSWORD})
    assert response.headers["Location"].endswith("/firm/members")


def test_session_rows_are_created_and_revoked(app, client, firm_a):
    client.login(firm_a.owner_email)
    client.logout()
    with app_session(app) as s:
        rows = s.scalars(select(UserSession).where(UserSession.user_id == firm_a.owner_id)).all()
    assert len(rows) == 1 and rows[0].revoked_at is not None
