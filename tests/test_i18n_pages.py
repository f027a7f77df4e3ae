"""Untranslated text on every demo page, for each role, in both languages (issue 15 item 1).

The demo data is seeded (``flask seed-demo``) inside the test's rolled-back transaction. For each role (visitor,
the owner of a firm with a verified assessment, the owner of a firm without one who starts the wizard, buyer, city
staff, county staff, programme expert) the test logs in through the real forms (TOTP codes
from the demo's fixed secrets), picks the language, and crawls every GET page reachable from the landing page and
the nav: same-origin ``<a href>`` links only, never logout, the language switch, static files or downloads (PDF,
XLSX, CSV, images). The crawl is bounded: one URL per pattern (path with ids replaced by ``{id}``, plus the sorted
query-string keys; redirects followed), at most ``PER_GROUP`` patterns per first two path segments (so that the
~100 market category pages do not crowd out the rest) and ``MAX_PAGES`` pages per role and language.

What counts as visible text: text nodes outside ``<script>``, ``<style>``, ``<template>`` and ``<svg>``, plus the
``title``, ``aria-label``, ``placeholder`` and ``alt`` attributes, and the label of submit buttons
(``<input type=submit value=...>``).

The rule for each language:

* **zh_CN** fails on a Latin word (two or more letters) that is not allowed. Allowed: the brand and format words in
  ``ALLOWED_LATIN`` (units, codes, file formats, product names such as PDF, USCC, ERP, MES, kg), the brand names
  in ``ALLOWED_PHRASES`` (certifications, authenticator apps), emails, URLs, codes (USCC, SKUs, 19mm,
  JX-XXXX-XXXX), and *data values*.
* **en** fails on a CJK character that is not allowed. Allowed: *data values*, and text inside any element that
  carries a ``lang`` attribute starting with ``zh`` (a template marks a deliberately Chinese word that way, such as
  中文 on the language switch).
* An English term glossed with its official Chinese name in parentheses, "Tax number (税号)", is allowed in
  English: the owner needs the Chinese word that is printed on the invoice or the voucher.
* Likewise in zh_CN, text inside an element with ``lang="en…"`` (the switch's "English") is allowed.

*Data values* are what users and the seed typed: every string stored in a text or JSON column of the seeded
database that contains Chinese (firm, person, product, RFQ, inquiry and programme names, descriptions, messages).
A piece of text that occurs inside one such value is data, not interface text, and is allowed; in English each
Chinese run must occur in a stored value and be at least two characters long (a lone 元 or 天 is a unit the template
forgot). Values without Chinese never count as data: stored codes such as ``product.approved`` or
``criterion:replicability`` and English descriptions cannot hide untranslated interface text.

``KNOWN_PYTHON_SIDE`` lists strings produced by Python code (not templates) that are still untranslated, each with
the module that has to be fixed; keep it short and remove entries as the code is fixed.
"""

from __future__ import annotations

import re
from collections import deque
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import pyotp
import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from sqlalchemy import String, Text, select

from tests.conftest import BACKEND, Client, app_session

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "saas" / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
MAX_PAGES = 250
PER_GROUP = 12
DEMO_FIRMS = 12

#: Latin words allowed in the Chinese interface: brands, standards, formats, units (lower-cased).
# fmt: off
ALLOWED_LATIN = {
    "uscc", "pdf", "xlsx", "csv", "json", "api", "erp", "mes", "crm", "plm", "pdm", "wms", "scm", "oa", "srm",
    "mrp", "aps", "hr", "it", "ai", "iot", "cad", "cam", "bi", "bom", "spc", "rfid", "saas", "totp", "url", "id",
    "sku", "moq", "kg", "mm", "cm", "m", "g", "t", "pcs", "km", "gsm", "tce", "pu", "pvc", "abs", "pc", "polo",
    "momme", "wifi", "app", "qr", "gb", "iso", "excel", "gbk", "utf", "n", "c", "r", "pro",
}
# fmt: on

#: Brand and standard names allowed in the Chinese interface (matched case-sensitively, removed before the check).
# fmt: off
ALLOWED_PHRASES = (
    "Microsoft Authenticator", "Google Authenticator", "OEKO-TEX Standard 100", "amfori BSCI", "FSC", "GOTS", "GRS",
    "LWG", "JPEG", "PNG", "WebP", "MB",
)
# fmt: on

#: Python-side strings still untranslated: (language, text, file to fix). Keep this short.
KNOWN_PYTHON_SIDE: list[tuple[str, str, str]] = []

LATIN_RE = re.compile(r"[A-Za-z][A-Za-z'’\-]*[A-Za-z]|[A-Za-z]")
CJK_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
CODE_RE = re.compile(r"\S*\d\S*|\S+@\S+|https?://\S+|/\S*|\b[A-Z]{2,}(?:-[A-Z0-9]{2,})+\b")
GLOSS_RE = re.compile(r"(?<=[A-Za-z]) ?[(（][\u3400-\u9fff·、]+[)）]")
SKIP_EXT = (".pdf", ".xlsx", ".csv", ".png", ".jpg", ".jpeg", ".webp", ".svg", ".ico", ".zip", ".json", ".txt")
SKIP_PATHS = ("/static/", "/auth/logout", "/language", "/media/", "/files/")
SKIP_WORDS = ("download", "export", "/pdf", ".xlsx", "/file/", "/image", "/evidence/")
ID_RE = re.compile(r"/(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32})(?=/|$)")


class _Text(HTMLParser):
    """Collect (text, language of the enclosing ``lang`` attribute or "") pieces of visible text, and links."""

    SKIP = {"script", "style", "template", "svg", "noscript"}
    VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool, str]] = []  # (tag, skipped, lang)
        self.pieces: list[tuple[str, str]] = []
        self.links: list[str] = []

    def _state(self) -> tuple[bool, str]:
        return (self.stack[-1][1], self.stack[-1][2]) if self.stack else (False, "")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        skipped, lang = self._state()
        skipped = skipped or tag in self.SKIP
        if "lang" in a and tag != "html":
            lang = a["lang"].lower()
        if not skipped:
            for name in ("title", "aria-label", "placeholder", "alt"):
                if a.get(name):
                    self.pieces.append((a[name], lang))
            if tag == "input" and a.get("type") in ("submit", "button") and a.get("value"):
                self.pieces.append((a["value"], lang))
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if tag not in self.VOID:
            self.stack.append((tag, skipped, lang))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        skipped, lang = self._state()
        if not skipped and data.strip():
            self.pieces.append((data, lang))


def _pattern(url: str) -> str:
    parts = urlsplit(url)
    keys = sorted({k for k, _v in parse_qsl(parts.query, keep_blank_values=True)})
    return ID_RE.sub("/{id}", parts.path) + "?" + "&".join(keys)


def _crawlable(href: str) -> str | None:
    parts = urlsplit(href)
    if parts.scheme not in ("", "http") or (parts.netloc and parts.netloc != "localhost"):
        return None
    path = parts.path
    if not path.startswith("/") or path.startswith(SKIP_PATHS) or path.lower().endswith(SKIP_EXT):
        return None
    if any(w in path.lower() for w in SKIP_WORDS):
        return None
    query = urlencode(parse_qsl(parts.query, keep_blank_values=True))
    return path + ("?" + query if query else "")


def crawl(client: Client, starts: list[str]) -> dict[str, list[tuple[str, str]]]:
    """Return {url: visible text pieces} for the pages reachable from ``starts``."""
    seen_patterns: set[str] = set()
    groups: dict[str, int] = {}
    queue = deque(starts)
    pages: dict[str, list[tuple[str, str]]] = {}
    while queue and len(pages) < MAX_PAGES:
        url = queue.popleft()
        pattern = _pattern(url)
        group = "/".join(pattern.split("?")[0].split("/")[:3])
        if pattern in seen_patterns or groups.get(group, 0) >= PER_GROUP:
            continue
        seen_patterns.add(pattern)
        groups[group] = groups.get(group, 0) + 1
        response = client.get(url)
        if response.status_code in (301, 302, 303) and (target := _crawlable(response.headers["Location"])):
            queue.append(target)
            continue
        if response.status_code != 200 or "text/html" not in response.content_type:
            continue
        parser = _Text()
        parser.feed(response.get_data(as_text=True))
        pages[url] = parser.pieces
        for href in parser.links:
            target = _crawlable(href)
            if target and _pattern(target) not in seen_patterns:
                queue.append(target)
    return pages


def _firm_ids(s) -> list:  # type: ignore[no-untyped-def]
    from saas.core.tenancy import set_staff_scope
    from saas.models import Firm

    set_staff_scope(s, "*")
    return list(s.scalars(select(Firm.id).order_by(Firm.created_at, Firm.uscc).execution_options(all_tenants=True)))


def data_values(app) -> str:  # type: ignore[no-untyped-def]
    """The stored text values of the seeded database that contain Chinese, joined by newlines. Read once as city
    staff and, on PostgreSQL, once inside each firm's tenant, so that row-level security shows every row."""
    import saas.models  # noqa: F401 - every table on the metadata
    from saas.core.tenancy import set_tenant
    from saas.models.base import Base

    values: set[str] = set()
    with app_session(app) as s:
        for firm_id in [None, *(_firm_ids(s) if BACKEND == "postgres" else [])]:
            set_tenant(s, firm_id)
            for table in Base.metadata.sorted_tables:
                columns = [c for c in table.columns if isinstance(c.type, String | Text)]
                columns += [c for c in table.columns if c.type.__class__.__name__ in ("JSON", "JSONB")]
                if columns:
                    for row in s.execute(select(*columns).execution_options(all_tenants=True)):
                        values.update(x for v in row for x in _strings(v))
    return "\n".join(v for v in values if CJK_RE.search(v))


def _strings(v) -> list[str]:  # type: ignore[no-untyped-def]
    if isinstance(v, str):
        return [v] if len(v) >= 2 else []
    if isinstance(v, dict):
        return [s for x in v.values() for s in _strings(x)] + [s for k in v for s in _strings(k)]
    if isinstance(v, list | tuple):
        return [s for x in v for s in _strings(x)]
    return []


def untranslated(pieces: list[tuple[str, str]], lang: str, data: str) -> list[str]:
    """Return the pieces of ``pieces`` that break the rule for ``lang`` (see the module docstring)."""
    known = {text for kl, text, _file in KNOWN_PYTHON_SIDE if kl == lang}
    bad = []
    for text, marked in pieces:
        text = " ".join(text.split())
        if text in known or marked.startswith("en" if lang == "zh_CN" else "zh") or text in data:
            continue
        if lang == "zh_CN":
            rest = text
            for phrase in ALLOWED_PHRASES:
                rest = rest.replace(phrase, " ")
            rest = CODE_RE.sub(" ", rest)
            words = [w for w in LATIN_RE.findall(rest) if w.lower() not in ALLOWED_LATIN]
            if words and not all(w in data for w in _runs(rest, words)):
                bad.append(text)
        else:
            runs = CJK_RE.findall(GLOSS_RE.sub("", text))
            if runs and not all(len(r) >= 2 and r in data for r in runs):
                bad.append(text)
    return bad


def _runs(text: str, words: list[str]) -> list[str]:
    """The maximal runs of Latin text (words, spaces, punctuation) that contain the offending ``words``."""
    runs = re.findall(r"[A-Za-z][A-Za-z0-9'’\-&.,/ ]*[A-Za-z0-9]|[A-Za-z]", text)
    return [r.strip() for r in runs if any(w in r for w in words)]


# --- Logins ---------------------------------------------------------------------------------------------------


def _login(client: Client, email: str, secret: str | None) -> str:
    """Log in through the forms and return the landing page."""
    from saas.tools.demo import DEMO_PASSWORD

    response = client.login(email, DEMO_PASSWORD)
    assert response.status_code == 302, email
    if secret:
        assert response.headers["Location"].endswith("/auth/two-factor")
        response = client.post("/auth/two-factor", {"code": pyotp.TOTP(secret).now()})
        assert response.status_code == 302 and "two-factor" not in response.headers["Location"], email
    return _crawlable(response.headers["Location"]) or "/"


def _roles() -> dict[str, tuple[str | None, str | None]]:
    from saas.programme.demo import DEMO_EXPERTS
    from saas.tools.demo import DEMO_DOMAIN, DEMO_STAFF

    staff = {email: secret for email, _n, _c, _a, secret in DEMO_STAFF}
    return {
        "visitor": (None, None),
        "firm owner": ("verified", None),  # the owner of a firm with a verified assessment
        "new firm owner": ("new", None),  # the owner of a firm without assessments, who starts the wizard
        "buyer": ("buyer01@" + DEMO_DOMAIN, None),
        "city staff": ("staff@" + DEMO_DOMAIN, staff["staff@" + DEMO_DOMAIN]),
        "county staff": ("haining.staff@" + DEMO_DOMAIN, staff["haining.staff@" + DEMO_DOMAIN]),
        "expert": (DEMO_EXPERTS[0][0], DEMO_EXPERTS[0][3]),
    }


ROLES = list(_roles())

#: Pages each role's crawl must reach, so that a broken link or login cannot make the test pass on fewer pages.
MUST_REACH = {
    "visitor": ["/", "/market/", "/market/search", "/market/products/{id}", "/market/suppliers/{id}", "/auth/login"],
    "firm owner": ["/firm/", "/assessments/{id}/results", "/benchmarking/{id}", "/programme/applications/{id}"],
    "new firm owner": ["/assessments/{id}/step/1", "/assessments/{id}/step/9", "/assessments/{id}/review"],
    "buyer": ["/inquiries", "/inquiries/{id}", "/rfqs", "/rfqs/{id}", "/market/products/{id}"],
    "city staff": [
        "/bureau/",
        "/bureau/dashboard",
        "/bureau/assessments/{id}/{id}",
        "/bureau/firms/{id}",
        "/bureau/moderation",
        "/programme/bureau/applications/{id}/{id}",
        "/programme/rounds/{id}/method",
    ],
    "county staff": ["/bureau/", "/bureau/dashboard", "/bureau/assessments/{id}/{id}", "/bureau/firms/{id}"],
    "expert": ["/programme/expert/", "/programme/expert/assignments/{id}"],
}


def _owner_email(app, *, verified: bool) -> str:  # type: ignore[no-untyped-def]
    """The demo owner of the first firm with a verified assessment (or of the first firm with none)."""
    from saas.core.tenancy import set_tenant
    from saas.models import Assessment, Membership, User

    with app_session(app) as s:
        for firm_id in _firm_ids(s):
            set_tenant(s, firm_id)
            assessed = select(Assessment.id).where(Assessment.firm_id == firm_id)
            if verified:
                assessed = assessed.where(Assessment.verified_at.is_not(None))
            if (s.scalar(assessed.limit(1)) is not None) != verified:
                continue
            owner = select(User.email).join(Membership, Membership.user_id == User.id)
            return s.scalar(owner.where(Membership.firm_id == firm_id, Membership.role == "owner"))
    raise AssertionError("the demo has no such firm")


@pytest.fixture()
def demo(app):  # type: ignore[no-untyped-def]
    result = app.test_cli_runner().invoke(args=["seed-demo", "--firms", str(DEMO_FIRMS)])
    assert result.exit_code == 0, result.output
    return data_values(app)


@pytest.mark.parametrize("role", ROLES)
def test_every_demo_page_is_in_one_language(app, make_client, demo, role):
    email, secret = _roles()[role]
    client = make_client()
    starts = ["/"]
    if email in ("verified", "new"):
        email = _owner_email(app, verified=email == "verified")
    if email:
        login = _login(client, email, secret)
        starts = ["/", login]
    if role == "new firm owner":
        started = client.post("/assessments/start")
        assert started.status_code == 302 and "/step/1" in started.headers["Location"], started.headers
        starts.append(urlsplit(started.headers["Location"]).path)
    problems = []
    for lang in ("zh_CN", "en"):
        client.post("/language", {"lang": lang, "next": "/"})
        pages = crawl(client, starts)
        reached = {ID_RE.sub("/{id}", urlsplit(u).path) for u in pages}
        assert set(MUST_REACH[role]) <= reached, f"{role}: crawl missed {set(MUST_REACH[role]) - reached}"
        failures = {url: bad for url, pieces in pages.items() if (bad := untranslated(pieces, lang, demo))}
        problems += [f"[{lang}] {url}: {bad[:8]}" for url, bad in sorted(failures.items())]
    assert not problems, f"{role}: untranslated text on {len(problems)} pages\n" + "\n".join(problems)


def test_macro_messages_are_in_the_catalogue():
    """`pybabel extract` skips directories starting with "_" (its default --ignore-dirs), so the macros' strings
    never reach the catalogue through `make extract`; check them here directly."""
    with open(PO, "rb") as fh:
        catalog = read_po(fh)
    translated = {m.id if isinstance(m.id, str) else m.id[0]: m.string for m in catalog if m.id}
    found = {
        message if isinstance(message, str) else message[0]
        for _f, _l, message, _c, _x in extract_from_dir(
            str(ROOT / "templates" / "_macros"), [("**.html", "jinja2")], {"**.html": {}}
        )
    }
    assert found, "no messages found in templates/_macros"
    missing = sorted(m for m in found if not translated.get(m))
    assert missing == [], f"translate in {PO.name}: {missing}"
