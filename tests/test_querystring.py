"""Raw UTF-8 in a query string (``?q=真丝`` sent unencoded on the wire) is read as the client meant it.

Against the real development server (``live_server``: ``flask run``) with a raw socket, and with crafted WSGI
environs for a PEP 3333 server (bytes as latin-1) and for werkzeug's server (bytes encoded once more).
"""

from __future__ import annotations

import re
import socket
from urllib.parse import urlsplit

import pytest

from saas.core.querystring import canonical_query

SILK = "真丝"
ENCODED = "%E7%9C%9F%E4%B8%9D"


def _pep3333(raw: bytes) -> str:
    return raw.decode("latin-1")


def _werkzeug_dev(raw: bytes) -> str:
    return raw.decode("latin-1").encode("utf-8").decode("latin-1")


def test_both_server_conventions_give_the_same_canonical_query():
    raw = f"q={SILK}&page=2".encode()
    assert canonical_query({"QUERY_STRING": _pep3333(raw)}) == f"q={ENCODED}&page=2"
    dev = {"QUERY_STRING": _werkzeug_dev(raw), "SERVER_SOFTWARE": "Werkzeug/3.1.9 Python/3.11"}
    assert canonical_query(dev) == f"q={ENCODED}&page=2"
    assert canonical_query({"QUERY_STRING": f"q={ENCODED}"}) is None  # ASCII is left alone
    assert canonical_query({"QUERY_STRING": _pep3333(b"q=\xff\xfe")}) == "q=%FF%FE"  # not UTF-8: stays escaped


def _count(html: str) -> str:
    return re.search(r'id="result-count">([^<]+)<', html)[1]


@pytest.mark.parametrize("server", ["pep3333", "werkzeug"])
def test_a_crafted_environ_searches_for_the_real_words(client, firm_a, publish_product, server):
    publish_product(firm_a, "19姆米重磅真丝双绉面料")
    publish_product(firm_a, "仿真丝雪纺面料")
    publish_product(firm_a, "重磅双绉面料")  # the category (真丝面料) is indexed too
    raw = f"q={SILK}".encode()
    environ = {"QUERY_STRING": _pep3333(raw)}
    if server == "werkzeug":
        environ = {"QUERY_STRING": _werkzeug_dev(raw), "SERVER_SOFTWARE": "Werkzeug/3.1.9 Python/3.11"}
    page = client.get("/market/search", environ_overrides=environ).get_data(as_text=True)
    encoded = client.get(f"/market/search?q={ENCODED}").get_data(as_text=True)
    assert f'name="q" value="{SILK}"' in page
    assert _count(page) == _count(encoded)
    api = client.get("/api/v1/products", environ_overrides=environ).get_json()
    assert api["total"] == client.get(f"/api/v1/products?q={ENCODED}").get_json()["total"] == 3


def _raw_get(base: str, target: bytes) -> tuple[int, str]:
    """One HTTP/1.1 request written byte for byte on a socket (no client library re-encodes the target)."""
    url = urlsplit(base)
    with socket.create_connection((url.hostname, url.port), timeout=30) as sock:
        sock.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: " + url.netloc.encode() + b"\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body.decode("utf-8")


def test_the_development_server_reads_raw_utf8_queries(seeded):
    status, raw_page = _raw_get(seeded.url, f"/market/search?q={SILK}".encode())
    _, encoded_page = _raw_get(seeded.url, f"/market/search?q={ENCODED}".encode())
    assert status == 200
    assert f'name="q" value="{SILK}"' in raw_page
    assert _count(raw_page) == _count(encoded_page)
    status, raw_api = _raw_get(seeded.url, f"/api/v1/products?q={SILK}&per_page=1".encode())
    _, encoded_api = _raw_get(seeded.url, f"/api/v1/products?q={ENCODED}&per_page=1".encode())
    import json

    assert status == 200 and json.loads(raw_api)["total"] == json.loads(encoded_api)["total"] > 0
    # bytes that are no UTF-8 at all are a search for U+FFFD, never a server error
    assert _raw_get(seeded.url, b"/market/search?q=\xff\xfe")[0] == 200
