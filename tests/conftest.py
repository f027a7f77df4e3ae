"""Fixtures: a migrated database per run, one rolled-back transaction per test, and helpers to act as users.

The backend is SQLite unless ``TEST_DATABASE=postgres``; then ``TEST_POSTGRES_URL`` names the owner connection
(default ``postgresql+psycopg://postgres@127.0.0.1:5432/jx_test``) and the app connects as the non-owner role, so
row-level security is live in every test. ``REQUIRE_SERVICES=1`` turns "service absent" skips into failures.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, make_url, text

from config import TestingConfig
from saas.app import create_app
from saas.core.extensions import db, limiter
from saas.tools import migrate

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "test-artifacts"
BACKEND = os.environ.get("TEST_DATABASE", "sqlite")
PG_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/jx_test")
REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
PASSWORD = "correct horse battery staple"


def service_missing(reason: str) -> None:
    """Skip (or, with REQUIRE_SERVICES=1, fail) a test whose external service is absent."""
    if REQUIRE_SERVICES:
        pytest.fail(f"required service missing: {reason}")
    pytest.skip(reason)


def pytest_report_header(config: Any) -> str:
    where = f" ({make_url(PG_URL).render_as_string()})" if BACKEND == "postgres" else ""
    return f"database backend: {BACKEND}{where}"


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    for item in items:
        if "postgres_only" in item.keywords and BACKEND != "postgres":
            item.add_marker(pytest.mark.skip(reason="PostgreSQL-only; runs in the PostgreSQL pass of `make test`"))


# --- Databases ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DatabaseUrls:
    owner: str  # runs migrations
    app: str  # what the app connects as (non-owner role on PostgreSQL)


def app_role_url(owner_url: str) -> str:
    """Return ``owner_url`` with the app's non-owner role as the user (trust auth in tests)."""
    role = os.environ.get("APP_DB_ROLE", "jx_app")
    return make_url(owner_url).set(username=role, password=None).render_as_string(hide_password=False)


#: Prefix of the PostgreSQL test databases; give concurrent runs on one server different prefixes.
DB_PREFIX = os.environ.get("TEST_DB_PREFIX", "jx_test")


def fresh_database(name: str, *, migrate_to: str | None = "head") -> DatabaseUrls:
    """Create an empty database called ``name`` (dropping any old one) and migrate it."""
    name = name.replace("jx_test", DB_PREFIX, 1)
    if BACKEND == "postgres":
        base = make_url(PG_URL)
        admin = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        except Exception as exc:  # noqa: BLE001 - any connection failure means the server is absent
            service_missing(f"PostgreSQL not reachable at {base.render_as_string()}: {exc.__class__.__name__}")
        finally:
            admin.dispose()
        owner = base.set(database=name).render_as_string(hide_password=False)
        urls = DatabaseUrls(owner=owner, app=app_role_url(owner))
    else:
        path = ROOT / "instance" / f"{name}-{os.getpid()}.db"
        path.parent.mkdir(exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        url = f"sqlite:///{path}"
        urls = DatabaseUrls(owner=url, app=url)
    if migrate_to:
        migrate.upgrade(urls.owner, migrate_to)
    return urls


@pytest.fixture(scope="session")
def database_urls() -> DatabaseUrls:
    return fresh_database("jx_test")


@pytest.fixture(scope="session")
def app(database_urls: DatabaseUrls) -> Iterator[Flask]:
    flask_app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=database_urls.app)
    yield flask_app
    flask_app.extensions["database"][0].dispose()


@pytest.fixture()
def make_app(database_urls: DatabaseUrls, app: Flask) -> Iterator[Any]:
    """Return a factory for extra apps (other configs) on the test database; their engines are disposed after."""
    made: list[Flask] = []

    def _make(config_class: type = TestingConfig, **overrides: Any) -> Flask:
        overrides.setdefault("SQLALCHEMY_DATABASE_URI", database_urls.app)
        other = create_app(config_class, **overrides)
        made.append(other)
        return other

    yield _make
    for other in made:
        other.extensions["database"][0].dispose()
    limiter.init_app(app)  # the limiter is process-wide: hand it back to the session app


@pytest.fixture(autouse=True)
def _transaction(request: pytest.FixtureRequest) -> Iterator[None]:
    """Run each test that uses the app inside one outer transaction, rolled back at the end."""
    if "app" not in request.fixturenames:
        yield
        return
    flask_app: Flask = request.getfixturevalue("app")
    engine = flask_app.extensions["database"][0]
    connection = engine.connect()
    outer = connection.begin()
    db.bind_to_connection(connection)
    with flask_app.app_context():
        limiter.reset()
    try:
        yield
    finally:
        db.bind_to_connection(None)
        outer.rollback()
        connection.close()


@contextmanager
def app_session(flask_app: Flask, firm_id: uuid.UUID | None = None) -> Iterator[Any]:
    """Yield ``db.session`` inside a short request context, bound to ``firm_id``; commit on success."""
    from saas.core.tenancy import set_tenant

    with flask_app.test_request_context():
        session = db.session
        set_tenant(session, firm_id)
        yield session
        session.commit()


# --- Acting as users ------------------------------------------------------------------------------------------

CSRF_RE = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


class Client:
    """The Flask test client plus form posting with a fresh CSRF token, as a browser would."""

    def __init__(self, client: FlaskClient) -> None:
        self.raw = client

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.raw.get(url, **kwargs)

    def csrf_token(self, page: str = "/") -> str:
        html = self.raw.get(page).get_data(as_text=True)
        match = CSRF_RE.search(html)
        if match is None and page == "/":  # visitors' public pages carry no token; the login form always does
            html = self.raw.get("/auth/login").get_data(as_text=True)
            match = CSRF_RE.search(html)
        assert match, f"no CSRF token on {page}"
        return match.group(1)

    def post(self, url: str, data: dict[str, Any] | None = None, *, csrf: bool = True, **kwargs: Any) -> Any:
        payload = dict(data or {})
        if csrf:
            payload.setdefault("csrf_token", self.csrf_token())
        return self.raw.post(url, data=payload, **kwargs)

    def login(self, email: str, password: str = PASSWORD) -> Any:
        return self.post("/auth/login", {"email": email, "password": password})

    def logout(self) -> Any:
        return self.post("/auth/logout")


@pytest.fixture()
def client(app: Flask) -> Client:
    return Client(app.test_client())


@pytest.fixture()
def make_client(app: Flask):  # type: ignore[no-untyped-def]
    return lambda: Client(app.test_client())


# --- Factories ------------------------------------------------------------------------------------------------


def valid_uscc(n: int, county: str = "nanhu") -> str:
    """Return a deterministic valid USCC for test firm number ``n``."""
    from saas.reference import DIVISION_CODES, org_code_check_char, uscc_check_char

    body = f"{n:08d}"
    first17 = "91" + DIVISION_CODES[county] + body + org_code_check_char(body)
    return first17 + uscc_check_char(first17)


@dataclass
class FirmHandle:
    id: uuid.UUID
    name: str
    owner_email: str
    owner_id: uuid.UUID


_counter = iter(range(1, 10**6))


@pytest.fixture()
def create_firm(app: Flask):  # type: ignore[no-untyped-def]
    """Return a callable that registers a firm with an owner through the real service."""
    from saas.auth.services import register_firm

    def _create(name: str | None = None, county: str = "nanhu", industry: str = "silk", **extra: Any) -> FirmHandle:
        n = next(_counter)
        email = extra.pop("email", f"owner{n}@firm{n}.example")
        with app_session(app) as s:
            firm, user = register_firm(
                s,
                firm_name=name or f"测试丝绸有限公司{n}",
                uscc=valid_uscc(n, county),
                industry=industry,
                county=county,
                park=None,
                employees=extra.pop("employees", 50),
                revenue_wan=extra.pop("revenue_wan", 800),
                contact_name="张三",
                contact_phone=None,
                owner_name="张三",
                email=email,
                password=PASSWORD,
            )
            handle = FirmHandle(firm.id, firm.name, user.email, user.id)
        return handle

    return _create


@pytest.fixture()
def create_user(app: Flask):  # type: ignore[no-untyped-def]
    """Return a callable creating a buyer, staff member or admin (staff get TOTP enrolled)."""
    from saas.auth.services import create_user as _create_user
    from saas.models import utcnow

    def _create(kind: str = "buyer", county: str | None = None, email: str | None = None) -> Any:
        n = next(_counter)
        with app_session(app) as s:
            user = _create_user(
                s,
                email=email or f"{kind}{n}@example.example",
                name=f"{kind} {n}",
                password=PASSWORD,
                kind=kind,
                county=county,
            )
            user.email_verified_at = utcnow()
            if kind in ("staff", "admin"):
                from saas.core.security import new_totp_secret

                user.totp_secret, user.totp_enabled = new_totp_secret(), True
            return {"id": user.id, "email": user.email, "totp_secret": user.totp_secret}

    return _create


DEFAULT_SILK_ATTRIBUTES = {"momme": "19mm", "fibre_composition": ["mulberry-silk"]}


@pytest.fixture()
def publish_product(app: Flask):  # type: ignore[no-untyped-def]
    """Return a callable that creates a published product for a firm through the real validation and returns its id.

    ``attributes`` are form values (as the supplier form sends them); other keywords override ``ProductInput``.
    """
    from saas.marketplace.services import ProductInput, clean, save_product
    from saas.models import Firm, User, utcnow

    def _publish(
        firm: FirmHandle,
        title: str = "19姆米重磅真丝双绉面料",
        category: str = "silk/silk-fabric/crepe-de-chine",
        attributes: dict[str, Any] | None = None,
        **fields: Any,
    ) -> uuid.UUID:
        data = ProductInput(
            category_slug=category,
            title_zh=title,
            sale_unit=fields.pop("sale_unit", "m"),
            moq=(moq := fields.pop("moq", "100")),
            tiers=fields.pop("tiers", [(moq, "88")]),
            lead_time_days=fields.pop("lead_time_days", "15"),
            attributes=attributes if attributes is not None else DEFAULT_SILK_ATTRIBUTES,
            **fields,
        )
        cleaned = clean(data)
        assert not cleaned.errors, cleaned.errors
        with app_session(app, firm.id) as s:
            product = save_product(s, s.get(Firm, firm.id), s.get(User, firm.owner_id), None, cleaned)
            product.status, product.published_at = "published", utcnow()
            s.flush()
            return product.id

    return _publish


def grant_pro(flask_app: Flask, firm_id: uuid.UUID) -> None:
    """Give a firm a paid Pro yearly pass (billing's entitlements then allow the full PDF report)."""
    from datetime import timedelta

    from saas.models import Purchase, utcnow

    with app_session(flask_app, firm_id) as s:
        now = utcnow()
        s.add(Purchase(product="pro_pass", status="paid", paid_at=now, valid_until=now + timedelta(days=365)))


@pytest.fixture()
def firm_a(create_firm):  # type: ignore[no-untyped-def]
    return create_firm(name="嘉兴甲丝绸有限公司")


@pytest.fixture()
def firm_b(create_firm):  # type: ignore[no-untyped-def]
    return create_firm(name="海宁乙皮革有限公司", county="haining", industry="leather")


def totp_code(secret: str, offset_steps: int = 0) -> str:
    """Return the TOTP code for now (+ ``offset_steps`` steps)."""
    import time

    import pyotp

    return pyotp.TOTP(secret).at(time.time() + 30 * offset_steps)


# --- Live server and browser ----------------------------------------------------------------------------------

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


@dataclass(frozen=True)
class LiveServer:
    url: str
    urls: DatabaseUrls

    def flask(self, *args: str) -> str:
        """Run a ``flask`` CLI command against the live server's database and return its output."""
        import subprocess
        import sys

        result = subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", *args],
            cwd=ROOT,
            env=_live_env(self.urls),
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        return result.stdout


def _live_env(urls: DatabaseUrls) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        APP_ENV="development",
        DATABASE_URL=urls.app,
        MIGRATIONS_DATABASE_URL=urls.owner,
        RATELIMIT_STORAGE="memory",
        REPORTS_SYNC="1",
        REPORTS_DIR=str(ROOT / "instance" / "test-live-reports"),
        EVIDENCE_DIR=str(ROOT / "instance" / "test-live-evidence"),
        ARGON2_TIME_COST="1",
        ARGON2_MEMORY_COST="8192",
        ARGON2_PARALLELISM="1",
    )
    return env


@pytest.fixture(scope="session")
def live_server() -> Iterator[LiveServer]:
    """Run the real app in its own process (``flask run``) on a fresh, migrated database."""
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    urls = fresh_database("jx_test_live")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "run", "--port", str(port), "--no-reload"],
        cwd=ROOT,
        env=_live_env(urls),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while True:
        try:
            urllib.request.urlopen(url + "/healthz", timeout=1).close()
            break
        except OSError:
            if time.time() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("the live server did not start") from None
            time.sleep(0.2)
    try:
        yield LiveServer(url, urls)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright (no downloaded browser)."""
    if not Path(CHROMIUM).exists():
        service_missing(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        instance = pw.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-dev-shm-usage"],
        )
        yield instance
        instance.close()


@pytest.fixture()
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    tab = context.new_page()
    tab.set_default_timeout(15000)
    yield tab
    context.close()


@pytest.fixture()
def seeded(live_server: LiveServer) -> LiveServer:
    """The live server with the demo data (70 firms; loaded once, later calls change nothing)."""
    live_server.flask("seed-demo", "--firms", "70")
    return live_server


def demo_login(page: Any, base: str, email: str, password: str = "Jiaxing-demo-2026") -> None:
    """Submit the login form in the browser (demo accounts share one password)."""
    page.goto(base + "/auth/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("#login-submit")


def staff_login_in_browser(page: Any, live: LiveServer, email: str, password: str = "Jiaxing-demo-2026") -> None:
    """Log a demo staff member in through the form and the TOTP step (codes are single-use: wait for a new one)."""
    import time

    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    demo_login(page, live.url, email, password)
    page.wait_for_url("**/auth/two-factor")
    for attempt in range(2):
        page.fill("#code", live.flask("totp-now", email).strip().splitlines()[-1])
        page.click("#totp-submit")
        try:
            page.wait_for_url("**/bureau/", timeout=5000 if attempt == 0 else 15000)
            return
        except PlaywrightTimeout:
            if attempt:
                raise
            time.sleep(31 - time.time() % 30)  # another test used this 30-second code already


def screenshot(page: Any, name: str) -> Path:
    """Save a full-page screenshot under test-artifacts/ and return its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}-{BACKEND}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


# --- Assessments ----------------------------------------------------------------------------------------------


def best_answer_fields(question: Any, high: bool = True) -> dict[str, Any]:
    """Return wizard form fields answering ``question`` at its best (or worst) level."""
    key = f"q-{question.id}"
    kind = question.type
    if kind == "single":
        options = sorted(question.options, key=lambda o: o.value)
        return {key: (options[-1] if high else options[0]).id}
    if kind == "requirement":
        return {key: "fully" if high else "none"}
    if kind == "multi":
        if high:
            return {key: [o.id for o in question.options if not o.exclusive]}
        exclusive = [o.id for o in question.options if o.exclusive]
        return {key: exclusive[:1] or [question.options[0].id]}
    states = {"adoption": ("5", "0"), "tri_state": ("yes", "no"), "in_use_planned": ("in_use", "none")}
    if kind in states:
        return {f"{key}-{r.id}": states[kind][0 if high else 1] for r in question.rows}
    if kind == "kpi":
        xs = [x for x, _y in question.anchors]
        return {key: str(xs[-1] if high else xs[0])}
    up = question.direction != "lower_better"
    low, top = question.value_range or (0, 1000)
    baseline = low + (top - low) / 2 or 100
    current = baseline * (1.3 if high == up else 0.7)
    return {f"{key}-baseline": str(baseline), f"{key}-current": str(min(top, max(low, current)))}


def answer_questions(client: Client, assessment_id: Any, questions: list[Any], high: bool = True) -> None:
    """Autosave an answer to each question through the real endpoint, as the wizard's script does."""
    token = client.csrf_token()
    for q in questions:
        data = {"csrf_token": token, "question_id": q.id, **best_answer_fields(q, high)}
        response = client.raw.post(f"/assessments/{assessment_id}/answer", data=data)
        assert response.status_code == 200, (q.id, response.get_json())


@pytest.fixture()
def start_assessment(app: Flask):  # type: ignore[no-untyped-def]
    """Return a callable that starts an assessment for a firm through the real service; gives (id, questions)."""
    import scoring
    from saas.assessments import instruments, services
    from saas.models import Firm, User, utcnow

    def _start(firm: FirmHandle) -> tuple[uuid.UUID, list[Any]]:
        with app_session(app, firm.id) as s:
            f, user = s.get(Firm, firm.id), s.get(User, firm.owner_id)
            assessment = services.start_assessment(s, f, user, utcnow().date())
            instrument = instruments.engine_instrument(assessment.instrument_version)
            questions = [q for d in scoring.questions_for(instrument, assessment.industry) for q in d.questions]
            return assessment.id, questions

    return _start


@pytest.fixture()
def submitted_assessment(app: Flask, make_client, start_assessment):  # type: ignore[no-untyped-def]
    """Return a callable that answers every question through the endpoints and submits; gives the id."""

    def _submit(firm: FirmHandle, high: bool = True) -> uuid.UUID:
        assessment_id, questions = start_assessment(firm)
        client = make_client()
        client.login(firm.owner_email)
        answer_questions(client, assessment_id, questions, high)
        response = client.post(f"/assessments/{assessment_id}/submit")
        assert response.status_code == 302 and response.headers["Location"].endswith("/results"), response.status_code
        client.logout()
        return assessment_id

    return _submit


def register_firm_in_browser(page: Any, base_url: str, *, name: str, email: str, uscc: str) -> None:
    """Fill in and send the firm registration form in a real browser; ends on the firm dashboard."""
    page.goto(base_url + "/auth/register")
    page.fill("#firm_name", name)
    page.fill("#uscc", uscc)
    page.select_option("#industry", "silk")
    page.select_option("#county", "tongxiang")
    page.fill("#employees", "60")
    page.fill("#revenue_wan", "900")
    page.fill("#contact_name", "钱丽")
    page.fill("#owner_name", "钱丽")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.fill("#password_confirm", PASSWORD)
    page.click("#register-submit")
    page.wait_for_url("**/firm/")


def fill_answers(session: Any, assessment: Any, level: float, rng: Any) -> None:
    """Store a demo-like answer (propensity ``level``) to every question of ``assessment``."""
    import scoring
    from saas.assessments import instruments
    from saas.models import AssessmentAnswer
    from saas.tools.demo import demo_answer

    instrument = instruments.engine_instrument(assessment.instrument_version)
    for dim in scoring.questions_for(instrument, assessment.industry):
        for q in dim.questions:
            session.add(
                AssessmentAnswer(
                    firm_id=assessment.firm_id,
                    assessment_id=assessment.id,
                    question_id=q.id,
                    value=demo_answer(q, level, rng),
                    confidence=3,
                )
            )
    session.flush()


@pytest.fixture()
def quick_submission(app: Flask):  # type: ignore[no-untyped-def]
    """Return a callable that stores demo-like answers and submits through the services (no HTTP); gives the id."""
    import random

    from saas.assessments import services
    from saas.models import Firm, User, utcnow

    def _submit(firm: FirmHandle, level: float, seed: int = 0) -> uuid.UUID:
        rng = random.Random(seed)
        with app_session(app, firm.id) as s:
            f, user = s.get(Firm, firm.id), s.get(User, firm.owner_id)
            assessment = services.start_assessment(s, f, user, utcnow().date())
            fill_answers(s, assessment, level, rng)
            services.submit_assessment(s, f, user, assessment)
            return assessment.id

    return _submit
