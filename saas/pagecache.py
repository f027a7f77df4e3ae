"""A short-lived in-process cache of whole public pages for visitors without a session (catalogue browsing).

Anonymous catalogue pages are the same for every visitor without a cookie: no CSRF token, no user, the default
language. Serving them from memory for ``PUBLIC_PAGE_CACHE_SECONDS`` keeps the database out of the hottest public
path; a new or changed product shows up within that time. A visitor who has a session (logged in, a chosen
language, a comparison list) always gets a fresh page, and a response that sets a cookie is never stored.
Each app process keeps its own cache; behind a load balancer that is fine for pages this short-lived.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Response, current_app, g, make_response, request, session

_pages: dict[tuple[str, str], tuple[float, bytes, str]] = {}
MAX_PAGES = 2000


def for_visitors(view: Callable[..., Any]) -> Callable[..., Any]:
    """Serve a GET view from the cache for visitors without a session cookie."""

    @wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        ttl = current_app.config.get("PUBLIC_PAGE_CACHE_SECONDS", 0)
        cookie = current_app.config.get("SESSION_COOKIE_NAME", "session")
        if not ttl or request.method != "GET" or g.get("user") is not None or cookie in request.cookies:
            return view(*args, **kwargs)
        key = (request.full_path, current_app.config["BABEL_DEFAULT_LOCALE"])
        now = time.monotonic()
        hit = _pages.get(key)
        if hit is not None and hit[0] > now:
            return Response(hit[1], mimetype=hit[2])
        response = make_response(view(*args, **kwargs))
        if response.status_code == 200 and not session.modified and "Set-Cookie" not in response.headers:
            if len(_pages) >= MAX_PAGES:
                _pages.clear()
            _pages[key] = (now + ttl, response.get_data(), response.mimetype)
        return response

    return wrapped


def clear() -> None:
    """Forget every cached page (tests)."""
    _pages.clear()
