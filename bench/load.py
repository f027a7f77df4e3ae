"""Mixed load against gunicorn on loopback, on SQLite and on PostgreSQL: 5xx, lost writes and throughput ratios.

For each backend: a demo database (``seed-demo``: about 200 firms and 1,100 published products; PostgreSQL set up by
``scripts/postgres-setup.sh`` with passwords, the app connected as its non-owner role), the app under
``gunicorn.conf.py`` (the production configuration, workers warmed before they take traffic), and then:

1. **Throughput ratios.** ``wrk`` (a C load generator: one thread, ``--connections`` connections) requests one path at
   a time, ``--ratio-seconds`` in all, in ``--ratio-rounds`` slices that alternate with as many slices against a
   hello-world Flask app (``bench/hello_app.py``) served beside it by the same ``gunicorn.conf.py``: the background
   load of a shared machine changes within a minute, and alternating exposes both sides to the same; each ratio is
   the median of its slices' ratios. Prints
   ``ratio_home``, ``ratio_search`` and ``ratio_api`` for ``/``, ``/market/search?q=真丝`` and
   ``/api/v1/products?q=箱包`` (targets ≥ 0.5, ≥ 0.25, ≥ 0.25). The routes are measured without the writers, as the
   baseline is: the ratio compares per-request cost, not contention.
2. **Mixed load** for ``--duration`` seconds (60 by default): ``wrk`` readers browse (home, market, a category,
   product pages) and search (hits and zero hits, pages and the JSON API) as anonymous visitors, while firm owners
   autosave answers (``POST /assessments/<id>/answer``, 150–300 ms apart, as a person clicking) and suppliers edit
   products (the edit form, 300–600 ms apart), each a logged-in session in a thread of this process.
3. **Read-back.** Every write the server acknowledged (200 with ``ok`` for an answer, the redirect for a product) is
   read back from the database afterwards: the stored value must be the last acknowledged one (or one sent after it
   whose answer was lost). Prints ``load_5xx`` (every 5xx of readers and writers; target 0) and ``load_lost_writes``
   (target 0).

Fairness on 2 cores: the client competes with the server for the CPU. ``wrk`` costs far less per request than any
Python client, and the hello-world baseline is measured with the same client and settings, so both sides of each
ratio carry the same client overhead. The writer threads sleep between requests and use a few percent of a core.
Figures are printed per backend (``…_sqlite``, ``…_postgres``); the unsuffixed lines are the worse of the two.

Usage: ``.venv/bin/python bench/load.py [--duration 60] [--backends sqlite,postgres]`` (needs ``wrk``:
``apt-get install -y wrk``).
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.marketplace import free_port, http_get, note  # noqa: E402

PG_ADMIN_URL = os.environ.get("LOAD_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
DEMO_PASSWORD = "Jiaxing-demo-2026"
ROUTES = {
    "home": "/",
    "search": "/market/search?q=" + urllib.parse.quote("真丝"),
    "api": "/api/v1/products?q=" + urllib.parse.quote("箱包"),
}
TARGETS = {"home": 0.5, "search": 0.25, "api": 0.25}
CSRF_RE = re.compile(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"')


# --- Servers ----------------------------------------------------------------------------------------------------


@contextmanager
def gunicorn(app_spec: str, chdir: Path, env: dict[str, str], log: Path, workers: int) -> Iterator[int]:
    """Serve ``app_spec`` with the production ``gunicorn.conf.py`` on a free loopback port; stop it afterwards."""
    port = free_port()
    server_env = {
        **os.environ,
        **env,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": str(workers),
        "GUNICORN_ACCESS_LOG": "off",
        "GUNICORN_LOG_LEVEL": "info",  # the "warm in" lines tell when every worker is ready
    }
    start_size = log.stat().st_size if log.exists() else 0
    cmd = [str(ROOT / ".venv/bin/gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), "--chdir", str(chdir), app_spec]
    with open(log, "ab") as out:
        proc = subprocess.Popen(cmd, cwd=chdir, env=server_env, stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"gunicorn {app_spec} exited with {proc.returncode}; see {log}")
            try:
                if http_get(port, "/", timeout=5)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn {app_spec} did not answer; see {log}")
            time.sleep(0.3)
        if app_spec == "wsgi:app":  # the first warm worker answers; wait for the others before measuring
            while log.read_bytes()[start_size:].count(b" warm in ") < workers:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError(f"not every gunicorn worker warmed; see {log}")
                time.sleep(0.3)
        else:
            time.sleep(1.0)
        yield port
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


WRK_COUNTERS = """
statuses5xx = 0
statuses4xx = 0
response = function(status, headers, body)
  if status >= 500 then statuses5xx = statuses5xx + 1 elseif status >= 400 then statuses4xx = statuses4xx + 1 end
end
local threads = {}
function setup(thread) table.insert(threads, thread) end
function done(summary, latency, requests)
  local s5, s4 = 0, 0
  for _, t in ipairs(threads) do s5 = s5 + t:get("statuses5xx"); s4 = s4 + t:get("statuses4xx") end
  io.write(string.format("COUNTS %d %d %d\\n", summary.requests, s5, s4))
end
"""

WRK_MIX = """
paths = {%s}
counter = 0
math.randomseed(os.time() + math.floor(os.clock() * 1000000))
request = function()
  counter = counter + 1
  local p = paths[(counter %% #paths) + 1]
  if p == "ZERO" then
    p = "/market/search?q=zq" .. math.random(1, 1000000000) .. "x"
  elseif p == "ZEROAPI" then
    p = "/api/v1/products?q=zq" .. math.random(1, 1000000000) .. "y"
  end
  return wrk.format("GET", p)
end
"""


@dataclass
class WrkResult:
    requests: int
    seconds: float
    s5xx: int
    s4xx: int
    socket_errors: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def wrk(port: int, path: str, seconds: float, connections: int, script: str, tmp: Path) -> WrkResult:
    """Run ``wrk`` with one thread against ``path`` (or the script's own paths) and count 5xx and 4xx answers."""
    lua = tmp / f"wrk-{uuid.uuid4().hex}.lua"
    lua.write_text(script + WRK_COUNTERS, encoding="utf-8")
    cmd = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "30s", "-s", str(lua)]
    start = time.perf_counter()
    out = subprocess.run([*cmd, f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True, check=True).stdout
    elapsed = time.perf_counter() - start
    counts = re.search(r"COUNTS (\d+) (\d+) (\d+)", out)
    duration = re.search(r"requests in ([\d.]+)(m?s|m)\b", out)
    seconds_run = elapsed
    if duration:
        value, unit = float(duration.group(1)), duration.group(2)
        seconds_run = value / 1000 if unit == "ms" else value * 60 if unit == "m" else value
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    assert counts, out
    return WrkResult(
        requests=int(counts.group(1)),
        seconds=seconds_run,
        s5xx=int(counts.group(2)),
        s4xx=int(counts.group(3)),
        socket_errors=sum(int(g) for g in errors.groups()) if errors else 0,
    )


# --- Databases --------------------------------------------------------------------------------------------------


@dataclass
class Backend:
    name: str
    app_url: str  # what the app connects as
    check_url: str  # what the read-back connects as (SQLite: the file; PostgreSQL: the superuser, past RLS)
    env: dict[str, str] = field(default_factory=dict)


def flask(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [str(ROOT / ".venv/bin/flask"), "--app", "wsgi", *args],
        cwd=ROOT,
        env={**os.environ, **env},
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def base_env(tmp: Path) -> dict[str, str]:
    return {
        "APP_ENV": "development",
        "SECRET_KEY": "bench-load-not-secret",
        "RATELIMIT_STORAGE": "memory",
        "RATELIMIT_LOGIN_PER_IP": "1000 per minute",
        "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/4"),
        "REPORTS_SYNC": "1",
        "EVIDENCE_DIR": str(tmp / "evidence"),
        "PRODUCT_IMAGE_DIR": str(tmp / "images"),
        "REPORTS_DIR": str(tmp / "reports"),
        "IMPORT_UPLOAD_DIR": str(tmp / "imports"),
    }


@contextmanager
def sqlite_backend(tmp: Path) -> Iterator[Backend]:
    url = f"sqlite:///{tmp}/load.db"
    env = {**base_env(tmp), "DATABASE_URL": url}
    flask(env, "db", "upgrade")
    flask(env, "seed-demo")
    yield Backend("sqlite", url, url, env)


@contextmanager
def postgres_backend(tmp: Path) -> Iterator[Backend]:
    """A scratch database made by scripts/postgres-setup.sh (roles with passwords); dropped afterwards."""
    from sqlalchemy import create_engine, make_url, text

    admin_url = make_url(PG_ADMIN_URL)
    names = {"DB_NAME": "jx_bench_load", "DB_OWNER": "jx_bench_load_owner", "APP_DB_ROLE": "jx_bench_load_app"}
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{names["DB_NAME"]}" WITH (FORCE)'))
            for role in (names["APP_DB_ROLE"], names["DB_OWNER"]):
                conn.execute(text(f'DROP ROLE IF EXISTS "{role}"'))

    drop()
    setup_env = {
        **os.environ,
        **names,
        "PGHOST": admin_url.host or "127.0.0.1",
        "PGPORT": str(admin_url.port or 5432),
        "PGUSER": admin_url.username or "postgres",
        "CREDENTIALS_FILE": str(tmp / "postgres.env"),
    }
    for key in ("DATABASE_URL", "MIGRATIONS_DATABASE_URL", "DB_OWNER_PASSWORD", "APP_DB_PASSWORD"):
        setup_env.pop(key, None)
    try:
        out = subprocess.run(
            ["bash", str(ROOT / "scripts/postgres-setup.sh")], cwd=ROOT, env=setup_env, capture_output=True, text=True
        )
        if out.returncode:
            raise RuntimeError(out.stdout + out.stderr)
        urls = dict(line.split("=", 1) for line in out.stdout.splitlines() if line.startswith(("DATABASE", "MIGR")))
        env = {**base_env(tmp), "DATABASE_URL": urls["DATABASE_URL"], "APP_DB_ROLE": names["APP_DB_ROLE"]}
        flask(env, "seed-demo")
        check = admin_url.set(database=names["DB_NAME"]).render_as_string(hide_password=False)
        yield Backend("postgres", urls["DATABASE_URL"], check, env)
    finally:
        drop()
        admin.dispose()


def postgres_reachable() -> bool:
    from sqlalchemy import create_engine, text

    engine = create_engine(PG_ADMIN_URL)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        return True
    except Exception as exc:  # noqa: BLE001 - any failure means the server is absent
        note(f"PostgreSQL not reachable ({exc.__class__.__name__})")
        return False
    finally:
        engine.dispose()


# --- Writers ----------------------------------------------------------------------------------------------------


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class Browser:
    """A logged-in session: cookies, CSRF tokens, no redirects followed (a 302 is an answer in itself)."""

    def __init__(self, port: int) -> None:
        self.base = f"http://127.0.0.1:{port}"
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect)

    def request(self, path: str, data: dict[str, Any] | None = None) -> tuple[int, str]:
        body = urllib.parse.urlencode(data, doseq=True).encode() if data is not None else None
        try:
            with self.opener.open(urllib.request.Request(self.base + path, data=body), timeout=30) as resp:
                return resp.status, resp.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read().decode("utf-8", "replace")

    def token(self, path: str) -> str:
        status, html = self.request(path)
        match = CSRF_RE.search(html)
        if status != 200 or match is None:
            raise RuntimeError(f"no CSRF token on {path} ({status})")
        return match.group(1)

    def login(self, email: str) -> None:
        token = self.token("/auth/login")
        status, _ = self.request("/auth/login", {"csrf_token": token, "email": email, "password": DEMO_PASSWORD})
        if status != 302:
            raise RuntimeError(f"login of {email} answered {status}")


@dataclass
class WriteLog:
    """Per key: the last acknowledged value and the values sent after it whose outcome is unknown."""

    acked: dict[Any, Any] = field(default_factory=dict)
    unsure: dict[Any, list[Any]] = field(default_factory=dict)
    writes: int = 0
    s5xx: int = 0
    other: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def sent(self, key: Any, value: Any, status: int, ok: bool) -> None:
        with self.lock:
            self.writes += 1
            if ok:
                self.acked[key] = value
                self.unsure[key] = []
                return
            self.unsure.setdefault(key, []).append(value)
            if status >= 500 or status == 0:
                self.s5xx += 1
            else:
                self.other += 1


@dataclass
class AnswerWriter:
    email: str
    assessment_id: str
    questions: list[tuple[str, list[str]]]  # (question id, option ids)


@dataclass
class ProductWriter:
    email: str
    product_id: str
    form: dict[str, list[str]]


def plan_writers(backend: Backend, answer_writers: int, product_writers: int) -> tuple[list[Any], list[Any]]:
    """Pick demo firms without an assessment (they start a draft) and demo suppliers with a published product."""
    from sqlalchemy import select

    import scoring
    from config import DevelopmentConfig
    from saas.app import create_app
    from saas.assessments import instruments
    from saas.core.extensions import db
    from saas.core.tenancy import set_tenant
    from saas.marketplace.supplier_views import _values_of
    from saas.models import Assessment, Firm, Membership, Product, User

    app = create_app(DevelopmentConfig, SQLALCHEMY_DATABASE_URI=backend.check_url)
    try:
        with app.test_request_context():
            dbs = db.session
            set_tenant(dbs, None)
            owners = dbs.execute(
                select(User.email, Firm.id, Firm.industry)
                .join(Membership, Membership.user_id == User.id)
                .join(Firm, Firm.id == Membership.firm_id)
                .where(Membership.role == "owner")
                .order_by(User.email)
                .execution_options(all_tenants=True)
            ).all()
            assessed = set(dbs.scalars(select(Assessment.firm_id).execution_options(all_tenants=True)))
            with_products: dict[Any, Any] = {}
            for firm_id, product_id in dbs.execute(
                select(Product.firm_id, Product.id)
                .where(Product.status == "published")
                .order_by(Product.firm_id, Product.id)
                .execution_options(all_tenants=True)
            ):
                with_products.setdefault(firm_id, product_id)
            instrument = instruments.engine_instrument(instruments.active_instrument(dbs))
            firms_by_id = {f.id: f for f in dbs.scalars(select(Firm))}
            answers: list[tuple[str, uuid.UUID, list[tuple[str, list[str]]]]] = []
            products: list[ProductWriter] = []
            for email, firm_id, _industry in owners:
                if firm_id not in assessed and len(answers) < answer_writers:
                    pack = instruments.industry_pack(instrument, firms_by_id[firm_id])
                    questions = [
                        (q.id, [o.id for o in q.options])
                        for dim in scoring.questions_for(instrument, pack)
                        for q in dim.questions
                        if q.type == "single" and q.options
                    ]
                    answers.append((email, firm_id, questions))
                elif firm_id in with_products and firm_id in assessed and len(products) < product_writers:
                    set_tenant(dbs, firm_id)
                    product = dbs.scalar(select(Product).where(Product.id == with_products[firm_id]))
                    products.append(ProductWriter(email, str(product.id), _values_of(product)))
                    set_tenant(dbs, None)
            dbs.rollback()
    finally:
        app.extensions["database"][0].dispose()
    return answers, products


def start_answer_writer(port: int, plan: tuple[str, uuid.UUID, list[tuple[str, list[str]]]]) -> tuple[Browser, Any]:
    email, _firm_id, questions = plan
    browser = Browser(port)
    browser.login(email)
    token = browser.token("/assessments/")
    status, _ = browser.request("/assessments/start", {"csrf_token": token})
    if status != 302:
        raise RuntimeError(f"starting an assessment for {email} answered {status}")
    return browser, None


def answer_loop(
    browser: Browser, assessment_id: str, questions: list[tuple[str, list[str]]], log: WriteLog, stop: float, seed: int
) -> None:
    rng = random.Random(seed)
    token = browser.token(f"/assessments/{assessment_id}/step/1")
    while time.monotonic() < stop:
        qid, options = rng.choice(questions)
        value = rng.choice(options)
        form = {"csrf_token": token, "question_id": qid, f"q-{qid}": value, f"conf-{qid}": "3"}
        try:
            status, body = browser.request(f"/assessments/{assessment_id}/answer", form)
            ok = status == 200 and json.loads(body).get("ok") is True
        except (OSError, ValueError):
            status, ok = 0, False
        log.sent((assessment_id, qid), value, status, ok)
        time.sleep(rng.uniform(0.15, 0.30))


def product_loop(browser: Browser, writer: ProductWriter, log: WriteLog, stop: float, seed: int) -> None:
    rng = random.Random(seed)
    path = f"/firm/products/{writer.product_id}"
    token = browser.token(path)
    n = 0
    while time.monotonic() < stop:
        n += 1
        lead = str(rng.randint(1, 90))
        title = f"{writer.form['title_zh'][0][:60]} 批次{n}"
        form = {**writer.form, "csrf_token": [token], "lead_time_days": [lead], "title_zh": [title]}
        try:
            status, _ = browser.request(path, form)
        except OSError:
            status = 0
        log.sent(writer.product_id, (title, int(lead)), status, status == 302)
        time.sleep(rng.uniform(0.3, 0.6))


def lost_writes(backend: Backend, answers: WriteLog, products: WriteLog) -> int:
    """Acknowledged writes not found afterwards: the stored value is neither the last acknowledged one nor a later
    unacknowledged one (whose outcome the client could not know)."""
    from sqlalchemy import create_engine, text

    engine = create_engine(backend.check_url)
    lost = 0
    try:
        with engine.connect() as conn:
            for (assessment_id, qid), value in answers.acked.items():
                stored = conn.execute(
                    text("SELECT value FROM assessment_answers WHERE assessment_id = :a AND question_id = :q"),
                    {
                        "a": uuid.UUID(assessment_id) if backend.name == "postgres" else uuid.UUID(assessment_id).hex,
                        "q": qid,
                    },
                ).scalar()
                if isinstance(stored, str) and backend.name == "sqlite":
                    stored = json.loads(stored)
                if stored != value and stored not in answers.unsure.get((assessment_id, qid), []):
                    lost += 1
            for product_id, value in products.acked.items():
                pid = uuid.UUID(product_id) if backend.name == "postgres" else uuid.UUID(product_id).hex
                row = conn.execute(
                    text("SELECT title_zh, lead_time_days FROM products WHERE id = :p"), {"p": pid}
                ).first()
                stored = (row[0], int(row[1])) if row else None
                if stored != value and stored not in products.unsure.get(product_id, []):
                    lost += 1
    finally:
        engine.dispose()
    return lost


def assessment_of(backend: Backend, email: str) -> str:
    from sqlalchemy import create_engine, text

    engine = create_engine(backend.check_url)
    try:
        with engine.connect() as conn:
            value = conn.execute(
                text(
                    "SELECT a.id FROM assessments a JOIN memberships m ON m.firm_id = a.firm_id "
                    "JOIN users u ON u.id = m.user_id WHERE u.email = :e AND a.status = 'draft'"
                ),
                {"e": email},
            ).scalar()
    finally:
        engine.dispose()
    return str(uuid.UUID(str(value)) if not isinstance(value, uuid.UUID) else value)


# --- The run ----------------------------------------------------------------------------------------------------


def reader_paths(backend: Backend) -> list[str]:
    from sqlalchemy import create_engine, text

    engine = create_engine(backend.check_url)
    with engine.connect() as conn:
        ids = conn.execute(text("SELECT product_id FROM product_listings ORDER BY product_id LIMIT 5")).scalars().all()
    engine.dispose()
    q = urllib.parse.quote
    paths = [
        "/",
        "/market/",
        "/market/silk/",
        "/market/luggage/",
        ROUTES["search"],
        "/market/search?q=" + q("箱包") + "&county=pinghu",
        "/market/search?q=" + q("面料") + "&page=2",
        "ZERO",
        ROUTES["api"],
        "/api/v1/products?q=" + q("真丝") + "&sort=newest",
        "ZEROAPI",
        *(f"/market/products/{uuid.UUID(str(i)) if not isinstance(i, uuid.UUID) else i}" for i in ids),
    ]
    return paths


def run_backend(backend: Backend, tmp: Path, args: argparse.Namespace) -> dict[str, float]:
    log = Path(args.log_dir) / f"gunicorn-{backend.name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.unlink(missing_ok=True)
    figures: dict[str, float] = {}
    hello_env = {"APP_ENV": "development"}
    note(f"{backend.name}: throughput against the hello-world app, in alternating slices")
    with (
        gunicorn("hello_app:app", ROOT / "bench", hello_env, log, args.workers) as hello_port,
        gunicorn("wsgi:app", ROOT, backend.env, log, args.workers) as port,
    ):
        slice_s = max(1.0, args.ratio_seconds / args.ratio_rounds)
        for path in ROUTES.values():  # warm-up: page cache, templates, the listing index
            wrk(port, path, 2, args.connections, "", tmp)
        wrk(hello_port, "/", 1, args.connections, "", tmp)
        rounds: dict[str, list[tuple[float, float, int]]] = {name: [] for name in ROUTES}
        # Both servers run side by side (an idle one costs nothing). Short slices alternate hello and route, and the
        # routes take turns, so every figure spans the whole window: on a shared 2-core machine the background load
        # changes by a factor of two within a minute. Each ratio is the median of its slices' ratios.
        for _ in range(args.ratio_rounds):
            for name, path in ROUTES.items():
                hello = wrk(hello_port, "/", slice_s, args.connections, "", tmp)
                result = wrk(port, path, slice_s, args.connections, "", tmp)
                rounds[name].append((result.rps, hello.rps, result.s5xx))
        for name, measured in rounds.items():
            figures[f"rps_{name}"] = statistics.median(r[0] for r in measured)
            figures[f"hello_rps_{name}"] = statistics.median(r[1] for r in measured)
            figures[f"ratio_{name}"] = statistics.median(r[0] / r[1] for r in measured if r[1])
            figures[f"ratio_5xx_{name}"] = sum(r[2] for r in measured)
        note(f"{backend.name}: mixed load for {args.duration:.0f} s")
        answers, products = WriteLog(), WriteLog()
        answer_plans, product_plans = plan_writers(backend, args.answer_writers, args.product_writers)
        stop = time.monotonic() + args.duration
        threads = []
        for i, plan in enumerate(answer_plans):
            browser, _ = start_answer_writer(port, plan)
            aid = assessment_of(backend, plan[0])
            threads.append(threading.Thread(target=answer_loop, args=(browser, aid, plan[2], answers, stop, i)))
        for i, writer in enumerate(product_plans):
            browser = Browser(port)
            browser.login(writer.email)
            threads.append(threading.Thread(target=product_loop, args=(browser, writer, products, stop, 100 + i)))
        for thread in threads:
            thread.start()
        paths = reader_paths(backend)
        mix = WRK_MIX % ", ".join(json.dumps(p) for p in paths)
        readers = wrk(port, "/", max(1.0, stop - time.monotonic()), args.connections, mix, tmp)
        for thread in threads:
            thread.join()
    figures["hello_rps"] = statistics.median(figures[f"hello_rps_{name}"] for name in ROUTES)
    figures["load_5xx"] = readers.s5xx + answers.s5xx + products.s5xx
    figures["load_lost_writes"] = lost_writes(backend, answers, products)
    figures["reader_rps"] = readers.rps
    figures["reader_requests"] = readers.requests
    figures["reader_4xx"] = readers.s4xx
    figures["reader_socket_errors"] = readers.socket_errors
    figures["answer_writes"] = answers.writes
    figures["answer_acked"] = len(answers.acked)
    figures["product_writes"] = products.writes
    figures["writes_refused_4xx"] = answers.other + products.other
    note(
        f"{backend.name}: hello {figures['hello_rps']:.0f} req/s; readers {readers.requests} requests "
        f"({readers.s5xx} 5xx); answers {answers.writes} ({answers.s5xx} 5xx), products {products.writes} "
        f"({products.s5xx} 5xx); load average {os.getloadavg()[0]:.1f}"
    )
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of mixed load per backend")
    parser.add_argument(
        "--ratio-seconds", type=float, default=10.0, help="seconds of wrk per route (and as much hello)"
    )
    parser.add_argument("--ratio-rounds", type=int, default=10, help="alternating hello/route slices per route")
    parser.add_argument("--connections", type=int, default=10, help="wrk connections")
    parser.add_argument("--workers", type=int, default=0, help="gunicorn workers (default: gunicorn.conf.py's)")
    parser.add_argument("--answer-writers", type=int, default=4)
    parser.add_argument("--product-writers", type=int, default=2)
    parser.add_argument("--backends", default="sqlite,postgres")
    parser.add_argument("--log-dir", default=str(ROOT / "test-artifacts" / "bench-load"), help="gunicorn logs")
    args = parser.parse_args(argv)
    if not args.workers:
        args.workers = 2 * (os.cpu_count() or 1) + 1
    if shutil.which("wrk") is None:
        raise SystemExit("bench/load.py needs wrk: apt-get install -y wrk")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # a plain kill still stops the servers and drops the db

    results: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory(prefix="jx-bench-load-") as tmp_name:
        tmp = Path(tmp_name)
        for name in args.backends.split(","):
            name = name.strip()
            if name == "postgres" and not postgres_reachable():
                note("PostgreSQL skipped")
                continue
            maker = sqlite_backend if name == "sqlite" else postgres_backend
            note(f"{name}: seeding the demo data")
            with maker(tmp) as backend:
                results[name] = run_backend(backend, tmp, args)
            for key, value in results[name].items():
                unit = (
                    "ratio" if key.startswith("ratio_") and "5xx" not in key else "req/s" if "rps" in key else "count"
                )
                print(f"{key}_{name}: {value:.3f} {unit}" if unit != "count" else f"{key}_{name}: {value:.0f} {unit}",
                      flush=True)  # fmt: skip
    if not results:
        return
    print(f"load_5xx: {sum(r['load_5xx'] for r in results.values()):.0f} count")
    print(f"load_lost_writes: {sum(r['load_lost_writes'] for r in results.values()):.0f} count")
    for name in ROUTES:
        worst = min(r[f"ratio_{name}"] for r in results.values())
        print(f"ratio_{name}: {worst:.3f} ratio (target >= {TARGETS[name]})")


if __name__ == "__main__":
    main()
