"""Production serving: gunicorn.conf.py reads its settings from the environment, and a worker is warm (listing index
loaded, nothing written) before it accepts its first connection."""

from __future__ import annotations

import logging
import os
import runpy
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select, text

from saas.core.extensions import db
from tests.conftest import ROOT, app_session

CONF = str(ROOT / "gunicorn.conf.py")
SETTINGS = ("WEB_CONCURRENCY", "GUNICORN_THREADS", "TRUST_PROXY", "FORWARDED_ALLOW_IPS", "GUNICORN_PRELOAD")


def _conf(monkeypatch, **env: str) -> dict:
    for name in SETTINGS:
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(CONF)


def test_defaults_suit_a_small_machine_and_forwarded_headers_follow_trust_proxy(monkeypatch):
    conf = _conf(monkeypatch)
    assert conf["workers"] == 2 * (os.cpu_count() or 1) + 1
    assert conf["worker_class"] == "sync" and conf["threads"] == 1
    assert conf["forwarded_allow_ips"] == ""  # nobody's X-Forwarded-* is believed
    assert conf["timeout"] > 0 and conf["graceful_timeout"] > 0 and not conf["preload_app"]
    conf = _conf(monkeypatch, TRUST_PROXY="1", WEB_CONCURRENCY="3", GUNICORN_THREADS="4")
    assert conf["forwarded_allow_ips"] == "127.0.0.1,::1"
    assert conf["workers"] == 3 and conf["worker_class"] == "gthread" and conf["threads"] == 4
    conf = _conf(monkeypatch, TRUST_PROXY="2", FORWARDED_ALLOW_IPS="10.1.2.3")
    assert conf["forwarded_allow_ips"] == "10.1.2.3"
    assert _conf(monkeypatch, TRUST_PROXY="0", FORWARDED_ALLOW_IPS="*")["forwarded_allow_ips"] == ""


def test_post_worker_init_warms_the_listing_index_and_writes_nothing(app, monkeypatch, firm_a, publish_product):
    from saas.marketplace import listing_index
    from saas.models import SearchGapVisit

    publish_product(firm_a, "预热检查真丝双绉")
    listing_index._indexes.clear()  # a cold process
    with app_session(app) as s:
        misses = s.scalar(select(func.count()).select_from(SearchGapVisit))
    messages: list[str] = []
    worker = SimpleNamespace(wsgi=app, pid=1, log=SimpleNamespace(info=lambda fmt, *a: messages.append(fmt % a)))
    _conf(monkeypatch)["post_worker_init"](worker)
    assert messages and "warm in" in messages[0]
    [index] = listing_index._indexes.values()
    assert index.snapshot is not None and len(index.snapshot.live) >= 1
    with app_session(app) as s:
        assert s.scalar(select(func.count()).select_from(SearchGapVisit)) == misses


def test_the_hello_world_app_is_left_alone(monkeypatch):
    from bench.hello_app import app as hello

    worker = SimpleNamespace(wsgi=hello, pid=1, log=SimpleNamespace(info=lambda *a: pytest.fail("warmed hello")))
    _conf(monkeypatch)["post_worker_init"](worker)


def test_a_forked_worker_drops_the_pooled_connections_it_inherited(make_app, caplog):
    from saas.core.serving import dispose_after_fork

    other = make_app()
    engine = other.extensions["database"][0]
    if engine.dialect.name == "sqlite":
        pytest.skip("the SQLite pool keeps no connection to inherit")
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    pool = engine.pool
    assert pool.checkedin() == 1
    with caplog.at_level(logging.WARNING):
        dispose_after_fork(other)
    assert engine.pool is not pool and engine.pool.checkedin() == 0
    pool.dispose()  # in a real fork the parent keeps using them; here this process is the parent
    assert db.engine is not None
