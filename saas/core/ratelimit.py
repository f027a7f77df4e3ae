"""Rate-limit keys and the storage choice: Redis when it answers, process memory otherwise."""

from __future__ import annotations

import logging

from flask import Flask, current_app, request

log = logging.getLogger(__name__)


def rate_limit_key() -> str:
    """Key a limit on the client address (ProxyFix supplies the real one behind a proxy)."""
    return request.remote_addr or "unknown"


def account_key() -> str:
    """Key a limit on the account named in the submitted form, normalised like stored emails."""
    email = (request.form.get("email") or "").strip().lower()
    return f"account:{email}"


def choose_storage_uri(app: Flask) -> str:
    """Return the limiter storage URI: Redis if configured and reachable, else ``memory://``."""
    mode = app.config.get("RATELIMIT_STORAGE", "auto")
    url = app.config["REDIS_URL"]
    if mode == "memory":
        return "memory://"
    if mode == "redis":
        return url
    try:
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=0.3, socket_timeout=0.3).ping()
    except Exception as exc:  # any failure means no Redis: fall back, and say so once
        log.warning("Redis unavailable at %s (%s); rate limits kept in process memory", url, exc)
        return "memory://"
    return url


def sensitive_limit() -> str:
    """Limit for reset, registration, MFA and password-change posts."""

    return current_app.config["RATELIMIT_SENSITIVE"]


def login_limit_ip() -> str:
    """Per-address limit on login posts."""

    return current_app.config["RATELIMIT_LOGIN_PER_IP"]


def login_limit_account() -> str:
    """Per-account limit on login posts."""

    return current_app.config["RATELIMIT_LOGIN_PER_ACCOUNT"]
