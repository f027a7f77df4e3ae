"""TOTP: mandatory for staff, optional for others, never replayable."""

from __future__ import annotations

import re

import pyotp
from sqlalchemy import select

from saas.models import User
from tests.conftest import PASSWORD, app_session, totp_code


def test_staff_login_asks_for_totp_and_refuses_a_replay(make_client, create_user):
    staff = create_user("staff")
    client = make_client()
    response = client.login(staff["email"])
    assert response.status_code == 302 and response.headers["Location"].endswith("/auth/two-factor")
    assert client.get("/bureau/").status_code == 302  # no session until the code is given
    code = totp_code(staff["totp_secret"])
    response = client.post("/auth/two-factor", {"code": code})
    assert response.status_code == 302 and response.headers["Location"].endswith("/bureau/")
    assert client.get("/bureau/").status_code == 200
    # the same code cannot be used again, even from another browser
    other = make_client()
    other.login(staff["email"])
    html = other.post("/auth/two-factor", {"code": code}).get_data(as_text=True)
    assert 'id="code-error"' in html
    assert other.get("/bureau/").status_code == 302


def test_wrong_and_expired_codes_fail(make_client, create_user):
    staff = create_user("staff")
    client = make_client()
    client.login(staff["email"])
    for code in ("000000", totp_code(staff["totp_secret"], -3)):
        html = client.post("/auth/two-factor", {"code": code}).get_data(as_text=True)
        assert 'id="code-error"' in html


def test_staff_without_authenticator_must_enrol_before_a_session(app, make_client, create_user):
    staff = create_user("staff")
    with app_session(app) as s:
        user = s.get(User, staff["id"])
        user.totp_secret, user.totp_enabled = None, False
    client = make_client()
    response = client.login(staff["email"])
    assert response.headers["Location"].endswith("/auth/two-factor/setup")
    html = client.get("/auth/two-factor/setup").get_data(as_text=True)
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', html).group(1)
    assert "data:image/svg+xml;base64," in html
    response = client.post("/auth/two-factor/setup", {"code": pyotp.TOTP(secret).now()})
    assert response.headers["Location"].endswith("/bureau/")
    with app_session(app) as s:
        assert s.get(User, staff["id"]).totp_enabled


def test_buyer_may_turn_totp_on_and_off(app, client, create_user):
    buyer = create_user("buyer")
    assert client.login(buyer["email"]).status_code == 302
    html = client.get("/account/two-factor").get_data(as_text=True)
    secret = re.search(r'<code class="secret">([A-Z2-7]+)</code>', html).group(1)
    client.post("/account/two-factor", {"code": pyotp.TOTP(secret).now()})
    client.logout()
    response = client.login(buyer["email"])
    assert response.headers["Location"].endswith("/auth/two-factor")
    # the enrolment code's time step is used up: the login needs the next code
    client.post("/auth/two-factor", {"code": totp_code(secret, 1)})
    client.post("/account/two-factor/disable")
    with app_session(app) as s:
        assert not s.scalar(select(User.totp_enabled).where(User.id == buyer["id"]))


def test_staff_cannot_turn_totp_off(app, make_client, create_user):
    staff = create_user("staff")
    client = make_client()
    client.login(staff["email"])
    client.post("/auth/two-factor", {"code": totp_code(staff["totp_secret"])})
    assert client.post("/account/two-factor/disable").status_code == 403
    with app_session(app) as s:
        user = s.get(User, staff["id"])
        assert user.totp_enabled and user.totp_secret == staff["totp_secret"]  # TOTP stays on


def test_totp_step_is_rate_limited(make_client, create_user, app):
    staff = create_user("staff")
    client = make_client()
    client.login(staff["email"], PASSWORD)
    statuses = [client.post("/auth/two-factor", {"code": "123456"}).status_code for _ in range(11)]
    assert statuses[-1] == 429
