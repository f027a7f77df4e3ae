"""CLI: staff creation with TOTP, and the demo data."""

from __future__ import annotations

from collections import Counter

import pyotp
from sqlalchemy import func, select

from saas.models import Firm, User
from saas.reference import uscc_problem
from tests.conftest import app_session


def test_create_staff_enrols_totp_and_refuses_bad_input(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "create-staff",
            "--email",
            "zhou@jxjx.example",
            "--name",
            "周敏",
            "--county",
            "pinghu",
            "--password",
            "a long staff passphrase",
        ]
    )
    assert result.exit_code == 0, result.output
    secret = next(line.split(": ")[1] for line in result.output.splitlines() if line.startswith("TOTP secret"))
    assert "otpauth://totp/" in result.output
    with app_session(app) as s:
        user = s.scalar(select(User).where(User.email == "zhou@jxjx.example"))
        assert user.kind == "staff" and user.staff_county == "pinghu" and user.totp_enabled
        assert user.totp_secret == secret and pyotp.TOTP(secret).now()
    bad = runner.invoke(
        args=[
            "create-staff",
            "--email",
            "x@jxjx.example",
            "--name",
            "x",
            "--county",
            "mars",
            "--password",
            "a long staff passphrase",
        ]
    )
    assert bad.exit_code != 0 and "county" in bad.output


def test_seed_demo_creates_realistic_firms_once(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "staff@demo.jx.example" in result.output
    with app_session(app) as s:
        firms = s.scalars(select(Firm)).all()
        assert 190 <= len(firms) <= 210
        assert len({f.county for f in firms}) == 7
        industries = Counter(f.industry for f in firms)
        assert {"silk", "warp_knitting", "textile", "garment", "leather", "luggage", "wood"} <= set(industries)
        assert all(uscc_problem(f.uscc) is None for f in firms)
        assert len({f.uscc for f in firms}) == len(firms)
        assert all("有限公司" in f.name for f in firms)
        assert {f.size_class for f in firms} >= {"micro", "small", "medium"}
        assert sum(1 for f in firms if f.park) > 100
        from saas.core.tenancy import set_staff_scope
        from saas.models import Assessment, ScoreSnapshot

        set_staff_scope(s, "*")  # read across firms as city-wide staff would (RLS staff-read policies)
        statuses = Counter(s.scalars(select(Assessment.status).execution_options(all_tenants=True)).all())
        assert statuses["submitted"] + statuses["verified"] >= 100 and statuses["verified"] >= 10
        composites = [
            c
            for c in s.scalars(select(ScoreSnapshot.composite).execution_options(all_tenants=True)).all()
            if c is not None
        ]
        assert 20 < sum(composites) / len(composites) < 80 and max(composites) - min(composites) > 30
        from saas.models import Product

        published = s.scalars(
            select(Product.industry).where(Product.status == "published").execution_options(all_tenants=True)
        ).all()
        assert len(published) >= 1000 and len(set(published)) == 7
        from saas.inquiries.services import response_times
        from saas.models import Inquiry, utcnow

        threads = s.execute(
            select(Inquiry.firm_id, Inquiry.created_at, Inquiry.first_response_at).execution_options(all_tenants=True)
        ).all()
        by_firm: dict = {}
        for firm_id, asked, answered in threads:
            by_firm.setdefault(firm_id, []).append((asked, answered))
        shown = [response_times(pairs, utcnow()) for pairs in by_firm.values()]
        assert len(threads) >= 300 and sum(1 for f in shown if f is not None) >= 30  # pages with response figures
        assert len({round(f.rate, 1) for f in shown if f is not None}) >= 3  # and they differ between suppliers
        from saas.models import Quote, Rfq

        rfq_states = Counter(s.scalars(select(Rfq.status)).all())
        assert sum(rfq_states.values()) >= 20 and rfq_states["awarded"] >= 1
        assert s.scalar(select(func.count()).select_from(Quote).execution_options(all_tenants=True)) >= 20
        kinds = Counter(s.scalars(select(User.kind)).all())
        assert kinds["buyer"] >= 10 and kinds["staff"] >= 2 and kinds["admin"] >= 1
    again = runner.invoke(args=["seed-demo"])
    assert "nothing changed" in again.output
    with app_session(app) as s:
        assert s.scalar(select(func.count()).select_from(Firm)) == len(firms)


def test_demo_logins_work(app, client):
    app.test_cli_runner().invoke(args=["seed-demo", "--firms", "7"])
    from saas.tools.demo import DEMO_PASSWORD

    assert client.login("owner001@demo.jx.example", DEMO_PASSWORD).headers["Location"].endswith("/firm/")
    client.logout()
    assert client.login("buyer01@demo.jx.example", DEMO_PASSWORD).status_code == 302
    client.logout()
    response = client.login("staff@demo.jx.example", DEMO_PASSWORD)
    assert response.headers["Location"].endswith("/auth/two-factor")
    result = app.test_cli_runner().invoke(args=["totp-now", "staff@demo.jx.example"])
    response = client.post("/auth/two-factor", {"code": result.output.strip()})
    assert response.headers["Location"].endswith("/bureau/")
