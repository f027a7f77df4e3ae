"""The one place that builds URLs leaving the site (emails, sitemap, API ``url`` fields) and that checks redirects.

External URLs are built from ``PUBLIC_BASE_URL`` only, never from the request: the ``Host`` header (and with a proxy,
``X-Forwarded-Host``) is chosen by the client, so a link built from it can be pointed at an attacker's site (a reset
link in a mail sent to the victim). Production also refuses unknown hosts (``TRUSTED_HOSTS``, see config.py), but the
links do not depend on that.

Redirect targets that come from the user (``next``, ``back``, the referrer) go through :func:`safe_redirect_target`:
a path on this site, or nothing.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app, request
from flask_babel import gettext as _
from werkzeug.exceptions import SecurityError


def public_base(app: Flask | None = None) -> tuple[str, str, str]:
    """``(scheme, host[:port], path prefix)`` of ``PUBLIC_BASE_URL``."""
    base = urlsplit((app or current_app).config["PUBLIC_BASE_URL"])
    return base.scheme or "http", base.netloc, base.path.rstrip("/")


def external_url(endpoint: str, **values: Any) -> str:
    """The absolute URL of ``endpoint`` under ``PUBLIC_BASE_URL``, whatever host the current request came in on.

    Works inside and outside a request (worker, CLI). Extra ``values`` become query arguments, as with ``url_for``.
    """
    app = current_app
    scheme, host, prefix = public_base(app)
    app.inject_url_defaults(endpoint, values)
    adapter = app.url_map.bind(host, script_name=prefix or "/", url_scheme=scheme)
    return adapter.build(endpoint, values, force_external=True)


def public_request_context(app: Flask) -> AbstractContextManager[Any]:
    """A request context at ``PUBLIC_BASE_URL``, for work outside a request that renders templates (reports, demo)."""
    scheme, host, prefix = public_base(app)
    return app.test_request_context(base_url=f"{scheme}://{host}{prefix}/")


def safe_redirect_target(target: str | None) -> str | None:
    """``target`` if it is a path on this site (``/…``), else None: no scheme, no host, no ``//`` or ``\\`` tricks.

    Browsers treat a backslash as a slash and drop tabs and newlines, so ``/\\evil``, ``/\t/evil`` and ``\\\\evil``
    would all leave the site; control characters are refused outright.
    """
    if not target or not isinstance(target, str):
        return None
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in target):
        return None
    if not target.startswith("/") or target.startswith(("//", "/\\")) or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return None
    return target


def referrer_path() -> str | None:
    """The path (and query) of the request's ``Referer`` when it is a page of this site, else None."""

    referrer = request.referrer
    if not referrer:
        return None
    parts = urlsplit(referrer)
    if parts.scheme not in ("http", "https") or parts.netloc not in (request.host, public_base()[1]):
        return None
    return safe_redirect_target(parts.path + (f"?{parts.query}" if parts.query else ""))


def refuse_untrusted_host() -> Any:
    """``before_request`` (the first one): answer 400 at once when the request names a host outside TRUSTED_HOSTS.

    Flask records the refusal as the routing exception but would run every other ``before_request`` hook (the
    session lookup …) first, and without a URL adapter no page template can be rendered; so the answer is plain text.
    """

    if isinstance(request.routing_exception, SecurityError):
        body = _("Bad request: this site is not served under the host name you used.")
        return body, 400, {"Content-Type": "text/plain; charset=utf-8"}
    return None
