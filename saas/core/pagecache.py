"""A short-lived in-process cache of whole public pages for visitors without a session (home, catalogue, search, API).

Anonymous public pages are the same for every visitor without a cookie: no CSRF token, no user, the default
language. Serving them from memory for ``PUBLIC_PAGE_CACHE_SECONDS`` keeps the database and the templates out of the
hottest public paths. A visitor who has a session (logged in, a chosen language, a comparison list) always gets a
fresh page, and a response that sets a cookie or touches the session is never stored.

* **Exact where it matters.** A view can give a *version* (``for_visitors(version=...)``): search and the API use the
  listing index's generation, which every publication, edit, withdrawal or supplier change bumps. A stored page of an
  older version is never served, so a search never shows a product that left the catalogue or misses one that joined
  it; what the listings do not carry (a supplier renaming itself, a new photo) shows within the time limit, as on
  the catalogue pages. A view can refuse storage for one response with :func:`dont_store` (a search that found
  nothing is logged, so it always runs).
* **Cheap hits.** :func:`serve_hit` runs as the first ``before_request`` hook: for a cached page it answers before
  the session, limiter and CSRF hooks run (none of them does anything for a visitor without a cookie on these GET
  pages), and the ``after_request`` hooks still add the security headers (a fresh CSP nonce; public pages carry no
  nonce-bearing script, and one that did would be blocked, never trusted) and ``Vary: Cookie``.
* **Keys** are the path with its query, the host and scheme (the API writes absolute URLs: a forged ``Host:`` header
  gets its own entry, never another visitor's) and the default language.

Each app process keeps its own cache; behind a load balancer that is fine for pages this short-lived.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Hashable
from functools import wraps
from typing import Any

from flask import Flask, Response, current_app, g, make_response, request, session

_pages: dict[tuple[Any, ...], tuple[float, Hashable, bytes, list[tuple[str, str]]]] = {}
MAX_PAGES = 2000
_ATTRIBUTE = "_pagecache_version"
_NO_VERSION: Callable[[], Hashable] = lambda: None  # noqa: E731
#: Headers the view's response may carry that are not the page's (added again by after_request, or per visitor).
_NOT_STORED = {"set-cookie", "content-length", "vary"}


def _cacheable_request() -> bool:
    cookie = current_app.config.get("SESSION_COOKIE_NAME", "session")
    return (
        bool(current_app.config.get("PUBLIC_PAGE_CACHE_SECONDS", 0))
        and request.method == "GET"
        and cookie not in request.cookies
    )


def _key() -> tuple[Any, ...]:
    return (request.full_path, request.host, request.scheme, current_app.config["BABEL_DEFAULT_LOCALE"])


def for_visitors(view: Callable[..., Any] | None = None, *, version: Callable[[], Hashable] | None = None) -> Any:
    """Serve a GET view from the cache for visitors without a session cookie (``version``: see the module)."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not _cacheable_request() or g.get("user") is not None:
                return view(*args, **kwargs)
            key, current = _key(), (version or _NO_VERSION)()
            hit = _lookup(key, current)
            if hit is not None:
                return hit
            g.pop("_pagecache_refused", None)
            response = make_response(view(*args, **kwargs))
            if (
                response.status_code == 200
                and not g.pop("_pagecache_refused", False)
                and not session.modified
                and "Set-Cookie" not in response.headers
                and not response.is_streamed
            ):
                if len(_pages) >= MAX_PAGES:
                    _pages.clear()
                ttl = current_app.config["PUBLIC_PAGE_CACHE_SECONDS"]
                headers = [(k, v) for k, v in response.headers.items() if k.lower() not in _NOT_STORED]
                _pages[key] = (time.monotonic() + ttl, current, response.get_data(), headers)
            return response

        setattr(wrapped, _ATTRIBUTE, version or _NO_VERSION)
        return wrapped

    return decorate(view) if view is not None else decorate


def dont_store() -> None:
    """Keep this request's response out of the cache (it is still served)."""
    g._pagecache_refused = True


def _lookup(key: tuple[Any, ...], current: Hashable) -> Response | None:
    hit = _pages.get(key)
    if hit is None or hit[0] <= time.monotonic() or hit[1] != current:
        return None
    return Response(hit[2], status=200, headers=hit[3])


def serve_hit() -> Response | None:
    """The first ``before_request`` hook: answer a visitor's request for a cached page at once."""
    if not _cacheable_request() or request.endpoint is None:
        return None
    version = getattr(current_app.view_functions.get(request.endpoint), _ATTRIBUTE, None)
    if version is None:
        return None
    key = _key()
    if key not in _pages:
        return None
    hit = _lookup(key, version())
    if hit is not None:
        # what the skipped hooks would have set for a visitor without a cookie
        g.user = g.user_session = g.tenant = g.membership = None
        g.csp_nonce = secrets.token_urlsafe(16)
    return hit


def init_app(app: Flask) -> None:
    """Put :func:`serve_hit` before every other ``before_request`` hook (call after all hooks are registered)."""
    app.before_request_funcs.setdefault(None, []).insert(0, serve_hit)


def clear() -> None:
    """Forget every cached page (tests)."""
    _pages.clear()
