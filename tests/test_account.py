"""The personal account: sessions are the user's own; another user's session id is a 404."""

from __future__ import annotations

import re

from sqlalchemy import select

from saas.models import UserSession
from tests.conftest import app_session


def _session_ids(app, user_id):
    with app_session(app) as s:
        return s.scalars(select(UserSession.id).where(UserSession.user_id == user_id)).all()


def test_user_can_sign_out_another_of_their_sessions(app, make_client, firm_a):
    laptop, phone = make_client(), make_client()
    laptop.login(firm_a.owner_email)
    phone.login(firm_a.owner_email)
    assert len(_session_ids(app, firm_a.owner_id)) == 2
    html = laptop.get("/account/").get_data(as_text=True)
    others = re.findall(r'action="(/account/sessions/[0-9a-f-]+/revoke)"', html)
    assert len(others) == 1  # the current session has no sign-out button of its own
    laptop.post(others[0])
    assert phone.get("/firm/").status_code == 302
    assert laptop.get("/firm/").status_code == 200


def test_another_users_session_is_404(app, make_client, firm_a, firm_b):
    a, b = make_client(), make_client()
    a.login(firm_a.owner_email)
    b.login(firm_b.owner_email)
    b_session = _session_ids(app, firm_b.owner_id)[0]
    assert a.post(f"/account/sessions/{b_session}/revoke").status_code == 404
    assert b.get("/firm/").status_code == 200


def test_sign_out_other_sessions(make_client, firm_a):
    laptop, phone = make_client(), make_client()
    laptop.login(firm_a.owner_email)
    phone.login(firm_a.owner_email)
    laptop.post("/account/sessions/revoke-others")
    assert laptop.get("/firm/").status_code == 200
    assert phone.get("/firm/").status_code == 302


def test_idle_and_absolute_timeouts_end_a_session(app, client, firm_a):
    from datetime import timedelta

    client.login(firm_a.owner_email)
    assert client.get("/firm/").status_code == 200
    with app_session(app) as s:
        row = s.scalar(select(UserSession).where(UserSession.user_id == firm_a.owner_id))
        row.last_seen_at -= app.config["SESSION_IDLE_TIMEOUT"] + timedelta(minutes=1)
    assert client.get("/firm/").status_code == 302
    client.login(firm_a.owner_email)
    with app_session(app) as s:
        newest = select(UserSession).where(UserSession.user_id == firm_a.owner_id)
        row = s.scalars(newest.order_by(UserSession.created_at.desc())).first()
        row.created_at -= app.config["SESSION_ABSOLUTE_TIMEOUT"] + timedelta(minutes=1)
    assert client.get("/firm/").status_code == 302
