"""Rate limits live in Redis when it answers and fall back to process memory when it does not."""

from __future__ import annotations

import os

import pytest

from tests.conftest import Client, service_missing

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture()
def redis_client():
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as exc:
        service_missing(f"Redis not reachable at {REDIS_URL}: {exc}")
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


@pytest.mark.redis
def test_login_limit_is_counted_in_redis(redis_client, make_app):
    redis_app = make_app(RATELIMIT_STORAGE="auto", REDIS_URL=REDIS_URL, RATELIMIT_LOGIN_PER_ACCOUNT="3 per minute")
    assert redis_app.config["RATELIMIT_STORAGE_URI"] == REDIS_URL
    client = Client(redis_app.test_client())
    statuses = [client.login("someone@example.com", "wrong password").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert any(b"account:someone@example.com" in key for key in redis_client.keys("*"))


def test_falls_back_to_memory_when_redis_is_absent(make_app):
    other = make_app(RATELIMIT_STORAGE="auto", REDIS_URL="redis://127.0.0.1:1/0")
    assert other.config["RATELIMIT_STORAGE_URI"] == "memory://"
