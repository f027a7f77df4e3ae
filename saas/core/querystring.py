"""Raw (unencoded) UTF-8 in a URL's query string, read as the client meant it.

Browsers percent-encode a query, but scripts, curl and some mail clients send ``/market/search?q=真丝`` as raw UTF-8
bytes. PEP 3333 hands those bytes to the app as a latin-1 ``str`` (each byte one character), which werkzeug decodes
as UTF-8: fine. Werkzeug's own development server (``flask run``, the ``live_server`` of the tests) instead decodes
the request line as latin-1 and then encodes that text as UTF-8 once more, so the query arrives double-encoded and
``q`` reads ``çä¸`` — a search for mojibake that matched hundreds of unrelated products.

:class:`RawQueryString` recovers the bytes (undoing the development server's extra step when that server is the one
talking) and percent-encodes every byte outside printable ASCII, so every later reader — ``request.args``,
``request.full_path``, links rebuilt from the arguments — sees one canonical, ASCII query. Bytes that are not UTF-8
stay percent-encoded and decode to U+FFFD as any other malformed escape would.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote

# Everything printable in ASCII stays as it is: the query's own syntax (& = + %) must not change.
_SAFE = "".join(chr(c) for c in range(0x21, 0x7F))


def raw_query_bytes(environ: dict[str, Any]) -> bytes:
    """The query string's bytes as the client sent them."""
    data = environ.get("QUERY_STRING", "").encode("latin-1", "replace")
    if str(environ.get("SERVER_SOFTWARE", "")).startswith("Werkzeug/"):
        # werkzeug.serving: request line read as latin-1, then ``_wsgi_encoding_dance`` = .encode("utf-8")
        try:
            data = data.decode("utf-8").encode("latin-1")
        except (UnicodeDecodeError, UnicodeEncodeError):
            pass  # not the development server's double encoding after all: keep the bytes
    return data


def canonical_query(environ: dict[str, Any]) -> str | None:
    """The percent-encoded query string, or None when it is plain ASCII already (the usual case)."""
    query = environ.get("QUERY_STRING", "")
    if query.isascii():
        return None
    return quote(raw_query_bytes(environ), safe=_SAFE)


class RawQueryString:
    """WSGI middleware: replace a query string holding raw non-ASCII bytes by its percent-encoded form."""

    def __init__(self, app: Callable[..., Iterable[bytes]]) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        fixed = canonical_query(environ)
        if fixed is not None:
            environ["QUERY_STRING"] = fixed
            for key in ("REQUEST_URI", "RAW_URI"):
                uri = environ.get(key)
                if isinstance(uri, str) and "?" in uri:
                    environ[key] = uri.split("?", 1)[0] + "?" + fixed
        return self.app(environ, start_response)
