"""Writes that survive contention: concurrent requests on separate connections, as a threaded or multi-process
server sends them (not the rolled-back test connection, which would serialise everything).

* Autosave answers posted from several threads at once are all stored (SQLite used to answer ``database is
  locked`` to about one in ten, and the answer was lost).
* Five registrations with one email at once give one account and four localised form errors, never a 500.
* Zero-result searches under concurrent writes never fail, and one visitor cannot grow the sourcing-gap log past
  its cap.
"""

from __future__ import annotations

import random
import re
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from config import TestingConfig
from saas.app import create_app
from saas.core.extensions import db, limiter
from saas.core.tenancy import set_tenant
from tests.conftest import BACKEND, PASSWORD, Client, best_answer_fields, fresh_database, valid_uscc

THREADS = 6


@pytest.fixture()
def standalone(request: pytest.FixtureRequest) -> Iterator[Flask]:
    """An app on its own fresh database, with real connections per thread (no rollback-per-test binding)."""
    assert "app" not in request.fixturenames  # the session app's fixture would bind every session to one connection
    session_app = request.getfixturevalue("app")  # (after the autouse binding fixture has passed this test by)
    urls = fresh_database(f"jx_test_writes_{uuid.uuid4().hex[:8]}")
    app = create_app(
        TestingConfig,
        SQLALCHEMY_DATABASE_URI=urls.app,
        RATELIMIT_ENABLED=False,
        PROPAGATE_EXCEPTIONS=False,  # an error is a 500 answer, as a real server gives
        SEARCH_MISS_FLUSH_SECONDS=0.2,  # the real, asynchronous path of the zero-result log
    )
    try:
        yield app
    finally:
        app.extensions["database"][0].dispose()
        limiter.init_app(session_app)  # hand the process-wide limiter back to the session app


def _register(app: Flask, n: int, email: str) -> tuple[uuid.UUID, uuid.UUID]:
    from saas.auth.services import register_firm

    with app.test_request_context(method="POST"):
        firm, user = register_firm(
            db.session,
            firm_name=f"嘉兴并发测试丝绸有限公司{n}",
            uscc=valid_uscc(900000 + n),
            industry="silk",
            county="nanhu",
            park=None,
            employees=50,
            revenue_wan=800,
            contact_name="张三",
            contact_phone=None,
            owner_name="张三",
            email=email,
            password=PASSWORD,
        )
        db.session.commit()
        return firm.id, user.id


def _start(app: Flask, firm_id: uuid.UUID, user_id: uuid.UUID) -> tuple[uuid.UUID, list[Any]]:
    import scoring
    from saas.assessments import instruments, services
    from saas.models import Firm, User, utcnow

    with app.test_request_context(method="POST"):
        s = db.session
        set_tenant(s, firm_id, user_id)
        assessment = services.start_assessment(s, s.get(Firm, firm_id), s.get(User, user_id), utcnow().date())
        instrument = instruments.engine_instrument(assessment.instrument_version)
        questions = [q for d in scoring.questions_for(instrument, assessment.industry) for q in d.questions]
        s.commit()
        return assessment.id, questions


def _run(workers: list[Any]) -> list[Any]:
    """Start one thread per callable at the same moment and return their results (or exceptions)."""
    barrier = threading.Barrier(len(workers))
    results: list[Any] = [None] * len(workers)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = workers[i]()
        except Exception as exc:  # noqa: BLE001 - reported by the test
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(workers))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    return results


def test_concurrent_autosaves_are_all_stored(standalone):
    from saas.models import AssessmentAnswer

    firm_id, user_id = _register(standalone, 1, "owner@contention.example")
    assessment_id, questions = _start(standalone, firm_id, user_id)
    questions = questions[: THREADS * 8]
    clients = []
    for _ in range(THREADS):
        client = Client(standalone.test_client())
        assert client.login("owner@contention.example").status_code == 302
        clients.append((client, client.csrf_token("/firm/")))

    def worker(i: int) -> Counter:
        client, token = clients[i]
        codes: Counter = Counter()
        for q in questions[i::THREADS]:
            data = {"csrf_token": token, "question_id": q.id, **best_answer_fields(q)}
            try:
                codes[client.raw.post(f"/assessments/{assessment_id}/answer", data=data).status_code] += 1
            except Exception as exc:  # noqa: BLE001 - a failure while rendering the 500 page is a failure too
                codes[type(exc).__name__] += 1
        return codes

    results = _run([lambda i=i: worker(i) for i in range(THREADS)])
    codes = sum(results, Counter())
    assert codes == Counter({200: len(questions)}), codes
    with standalone.app_context():
        set_tenant(db.session, firm_id)
        stored = set(db.session.scalars(select(AssessmentAnswer.question_id)))
    assert stored == {q.id for q in questions}


REGISTRATION = {
    "firm_name": "嘉兴同时注册丝绸有限公司",
    "industry": "silk",
    "county": "nanhu",
    "employees": "40",
    "revenue_wan": "500",
    "contact_name": "李四",
    "owner_name": "李四",
    "password": PASSWORD,
    "password_confirm": PASSWORD,
}


def test_five_simultaneous_registrations_with_one_email_give_one_account_and_four_form_errors(standalone):
    from saas.models import User

    email = "same@simultaneous.example"
    clients = [Client(standalone.test_client()) for _ in range(5)]
    tokens = [c.csrf_token("/auth/register") for c in clients]

    def post(i: int) -> Any:
        data = {**REGISTRATION, "csrf_token": tokens[i], "email": email, "uscc": valid_uscc(910000 + i)}
        return clients[i].raw.post("/auth/register", data=data, headers={"Accept-Language": "zh-CN"})

    responses = _run([lambda i=i: post(i) for i in range(5)])
    assert not [r for r in responses if isinstance(r, Exception)], responses
    codes = sorted(r.status_code for r in responses)
    assert codes == [200, 200, 200, 200, 302], codes
    for r in responses:
        if r.status_code == 200:
            html = r.get_data(as_text=True)
            # the error is next to the email field (its own error paragraph), in Chinese
            assert re.search(r'id="email-error"[^>]*>[^<]*该邮箱已注册', html), html[:2000]
    with standalone.app_context():
        assert db.session.scalar(select(func.count()).select_from(User).where(User.email == email)) == 1


def test_zero_result_searches_never_fail_under_writes_and_one_visitor_is_capped(standalone):
    """Eight threads search for random nothing (web and API) while two threads autosave answers; one more
    visitor (another address) searches too. No answer is a 500, and the log holds at most the cap per visitor."""
    from saas.marketplace.misses import log_for
    from saas.models import SearchGapVisit

    standalone.config.update(SEARCH_MISS_PER_VISITOR_DAY=15, SEARCH_MISS_NEW_QUERIES_DAY=10_000)
    firm_id, user_id = _register(standalone, 2, "writer@contention.example")
    assessment_id, questions = _start(standalone, firm_id, user_id)
    writer = Client(standalone.test_client())
    assert writer.login("writer@contention.example").status_code == 302
    token = writer.csrf_token("/firm/")
    rng = random.Random(7)
    words = ["".join(rng.choice("碳纤维钛合金石墨烯量子陶瓷玻璃钢") for _ in range(4)) + str(i) for i in range(400)]

    def searcher(i: int) -> Counter:
        client = standalone.test_client()
        codes: Counter = Counter()
        for n, word in enumerate(words[i::8]):
            path = "/api/v1/products?q=" if n % 2 else "/market/search?q="
            try:
                codes[client.get(path + word).status_code] += 1
            except Exception as exc:  # noqa: BLE001 - a failure while rendering the 500 page is a failure too
                codes[type(exc).__name__] += 1
        return codes

    def autosaver(i: int) -> Counter:
        codes: Counter = Counter()
        mine = questions[i::2]
        for k, q in enumerate(mine * 2):  # every answer twice, the second time changed
            data = {"csrf_token": token, "question_id": q.id, **best_answer_fields(q, high=k < len(mine))}
            codes[writer.raw.post(f"/assessments/{assessment_id}/answer", data=data).status_code] += 1
        return codes

    def other_visitor() -> Counter:
        client = standalone.test_client()
        return Counter(
            client.get("/market/search?q=" + word, environ_base={"REMOTE_ADDR": "203.0.113.9"}).status_code
            for word in words[:30]
        )

    workers = [lambda i=i: searcher(i) for i in range(8)] + [lambda i=i: autosaver(i) for i in range(2)]
    results = _run([*workers, other_visitor])
    assert not [r for r in results if isinstance(r, Exception)], results
    codes = sum(results, Counter())
    assert set(codes) == {200}, codes
    log_for(standalone).flush()  # what the storing thread has not stored yet
    with standalone.app_context():
        per_visitor = dict(
            db.session.execute(select(SearchGapVisit.visitor, func.count()).group_by(SearchGapVisit.visitor)).all()
        )
    # the test client's address (127.0.0.1) and the other visitor: each at its cap, no more
    assert sorted(per_visitor.values()) == [15, 15], per_visitor


def test_four_simultaneous_saves_of_one_favourite_leave_it_saved(standalone):
    """A double (or quadruple) click on "Save ☆" asks for the saved state each time: concurrent requests (a unique
    key race on PostgreSQL, retried) and repeated ones leave it saved instead of toggling it back."""
    from saas.auth.services import create_user
    from saas.marketplace.services import ProductInput, clean, save_product
    from saas.models import Favourite, Firm, User, utcnow
    from tests.conftest import DEFAULT_SILK_ATTRIBUTES

    firm_id, owner_id = _register(standalone, 3, "supplier@contention.example")
    with standalone.test_request_context(method="POST"):
        s = db.session
        set_tenant(s, firm_id, owner_id)
        cleaned = clean(
            ProductInput(
                category_slug="silk/silk-fabric/crepe-de-chine",
                title_zh="19姆米重磅真丝双绉面料",
                sale_unit="m",
                moq="100",
                tiers=[("100", "88")],
                lead_time_days="15",
                attributes=DEFAULT_SILK_ATTRIBUTES,
            )
        )
        product = save_product(s, s.get(Firm, firm_id), s.get(User, owner_id), None, cleaned)
        product.status, product.published_at = "published", utcnow()
        product_id = product.id
        buyer = create_user(s, email="buyer@contention.example", name="买家", password=PASSWORD, kind="buyer")
        buyer.email_verified_at = utcnow()
        buyer_id = buyer.id
        s.commit()
    clients = []
    for _ in range(4):
        client = Client(standalone.test_client())
        assert client.login("buyer@contention.example").status_code == 302
        clients.append((client, client.csrf_token(f"/market/products/{product_id}")))

    def post(i: int) -> int:
        client, token = clients[i]
        data = {"csrf_token": token, "want": "1"}
        return client.raw.post(f"/favourites/{product_id}", data=data).status_code

    assert _run([lambda i=i: post(i) for i in range(4)]) == [302] * 4
    with standalone.test_request_context():
        set_tenant(db.session, None, buyer_id)
        assert db.session.get(Favourite, (buyer_id, product_id)) is not None


def test_a_late_retry_of_an_older_change_never_overwrites_a_later_one(client, firm_a, start_assessment, app):
    """The wizard sends its page id and a change number; the server keeps the highest of a page (and repeats the
    same one idempotently), while a save from another page, or without JavaScript, is simply the latest."""
    from saas.models import AssessmentAnswer
    from tests.conftest import app_session

    assessment_id, questions = start_assessment(firm_a)
    q = next(q for q in questions if q.type == "single")
    low, high = best_answer_fields(q, high=False), best_answer_fields(q, high=True)
    client.login(firm_a.owner_email)
    token = client.csrf_token("/firm/")

    def post(fields: dict[str, Any], **revision: str) -> Any:
        data = {"csrf_token": token, "question_id": q.id, **fields, **revision}
        response = client.raw.post(f"/assessments/{assessment_id}/answer", data=data)
        assert response.status_code == 200, response.get_json()
        return response.get_json()

    def stored() -> Any:
        with app_session(app, firm_a.id) as s:
            return s.scalar(select(AssessmentAnswer.value).where(AssessmentAnswer.question_id == q.id))

    assert post(high, client_page="abc123", client_seq="2")["stale"] is False
    assert post(low, client_page="abc123", client_seq="1")["stale"] is True  # the earlier change, retried late
    assert stored() == high[f"q-{q.id}"]
    assert post(high, client_page="abc123", client_seq="2")["stale"] is False  # the same save again: no change
    assert stored() == high[f"q-{q.id}"]
    assert post(low, client_page="def456", client_seq="1")["stale"] is False  # another page (a reload) is later
    assert stored() == low[f"q-{q.id}"]
    post(high)  # without JavaScript's numbers: the latest wins, as before
    assert stored() == high[f"q-{q.id}"]


@pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite-only: how transactions begin")
def test_sqlite_writers_take_the_lock_up_front_and_readers_do_not(standalone):
    """A POST's transactions begin IMMEDIATE (before their first read), a GET's deferred; WAL, synchronous=NORMAL."""
    from sqlalchemy import event, text

    engine = standalone.extensions["database"][0]
    begins: list[str] = []

    def seen(_conn, _cursor, statement, *_args):
        if statement.startswith("BEGIN"):
            begins.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        client = Client(standalone.test_client())
        begins.clear()
        assert client.get("/market/silk/").status_code == 200  # reads the listings
        assert begins and set(begins) == {"BEGIN"}
        token = client.csrf_token("/auth/login")
        begins.clear()
        client.raw.post("/auth/login", data={"csrf_token": token, "email": "nobody@x.example", "password": "x"})
        assert begins and set(begins) == {"BEGIN IMMEDIATE"}
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    with standalone.app_context():
        s = db.session
        assert s.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert s.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL: no fsync per commit
