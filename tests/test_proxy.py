"""TRUST_PROXY: the number of reverse proxies whose X-Forwarded-For/-Proto entries are believed (0 = none).

Behind a load balancer every request comes from its address; only with TRUST_PROXY=1 do the per-address login limits
key on the real client, and without it a client cannot pick its own address with a made-up header.
"""

from __future__ import annotations

import pytest
from werkzeug.middleware.proxy_fix import ProxyFix

from config import ProductionConfig, TestingConfig, env_proxies
from tests.conftest import Client

PROXY_ADDRESS = "10.0.0.5"


def _behind_proxy(app, client_address: str | None) -> Client:
    """A browser whose requests reach the app through the proxy; it says who the client is (or nothing)."""
    raw = app.test_client()
    raw.environ_base["REMOTE_ADDR"] = PROXY_ADDRESS
    if client_address is not None:
        raw.environ_base["HTTP_X_FORWARDED_FOR"] = client_address
    return Client(raw)


def _failed_login(client: Client, n: int):
    return client.login(f"nobody{n}@proxy.example", "wrong password")


@pytest.fixture()
def limited(make_app):
    def _make(proxies: int):
        return make_app(
            TestingConfig,
            TRUST_PROXY=proxies,
            RATELIMIT_LOGIN_PER_IP="3 per minute",
            RATELIMIT_LOGIN_PER_ACCOUNT="100 per minute",
        )

    return _make


def test_with_one_proxy_each_client_has_its_own_login_limit(limited):
    app = limited(1)
    first, second = _behind_proxy(app, "203.0.113.1"), _behind_proxy(app, "203.0.113.2")
    for n in range(3):
        assert _failed_login(first, n).status_code == 200
    assert _failed_login(first, 3).status_code == 429
    # the second client shares the proxy's address but not the first one's limit
    assert _failed_login(second, 4).status_code == 200
    # a client that prepends a made-up address is still itself: only the proxy's (last) entry counts
    spoofer = _behind_proxy(app, "198.51.100.7, 203.0.113.1")
    assert _failed_login(spoofer, 5).status_code == 429


def test_without_trusted_proxies_a_forwarded_header_is_ignored(limited):
    app = limited(0)
    for n in range(3):
        assert _failed_login(_behind_proxy(app, f"203.0.113.{10 + n}"), n).status_code == 200
    assert _failed_login(_behind_proxy(app, "203.0.113.99"), 3).status_code == 429


def test_the_forwarded_scheme_is_believed_only_from_the_proxy(limited):
    for proxies, scheme in ((1, "https"), (0, "http")):
        app = limited(proxies)

        @app.get(f"/__scheme{proxies}")
        def _scheme():  # type: ignore[no-untyped-def]
            from flask import request

            return request.scheme

        raw = app.test_client()
        body = raw.get(f"/__scheme{proxies}", headers={"X-Forwarded-Proto": "https"}).get_data(as_text=True)
        assert body == scheme


@pytest.mark.parametrize(
    ("value", "count"), [(None, 0), ("0", 0), ("1", 1), ("2", 2), ("on", 1), ("true", 1), ("off", 0)]
)
def test_trust_proxy_is_read_as_a_count(monkeypatch, value, count):
    if value is None:
        monkeypatch.delenv("TRUST_PROXY", raising=False)
    else:
        monkeypatch.setenv("TRUST_PROXY", value)
    assert env_proxies() == count


@pytest.mark.parametrize("value", ["many", "-1", "99"])
def test_a_bad_trust_proxy_refuses_to_start(monkeypatch, value):
    monkeypatch.setenv("TRUST_PROXY", value)
    with pytest.raises(RuntimeError, match="TRUST_PROXY"):
        env_proxies()


def test_production_applies_the_configured_count(monkeypatch, database_urls, make_app):
    monkeypatch.setenv("SECRET_KEY", "x" * 32)
    monkeypatch.setenv("DATABASE_URL", database_urls.app)
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://jx.example")
    monkeypatch.setenv("TRUST_PROXY", "2")
    prod = make_app(ProductionConfig, RATELIMIT_STORAGE="memory")
    fix = prod.wsgi_app
    while not isinstance(fix, ProxyFix):
        fix = fix.app
    assert (fix.x_for, fix.x_proto, fix.x_host) == (2, 2, 0)
