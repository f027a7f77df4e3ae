"""Languages: Chinese first, English switchable, and a complete zh_CN catalogue."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po
from flask_babel import force_locale, format_date, format_decimal

ROOT = Path(__file__).resolve().parent.parent
PO = ROOT / "saas" / "translations" / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"


def _source_messages() -> set[str]:
    with open(ROOT / "babel.cfg") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    keywords = {**DEFAULT_KEYWORDS, "_l": None, "lazy_gettext": None, "N_": None}
    found = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords
    ):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_zh_cn_catalogue_has_every_message():
    with open(PO, "rb") as fh:
        catalog = read_po(fh)
    translated = {m.id if isinstance(m.id, str) else m.id[0]: m for m in catalog if m.id}
    missing = sorted(msg for msg in _source_messages() if msg not in translated)
    untranslated = sorted(k for k, m in translated.items() if not m.string or m.fuzzy)
    assert missing == [], f"run `make extract` and translate: {missing[:10]}"
    assert untranslated == [], untranslated[:10]


def test_home_page_is_chinese_by_default_and_switches_to_english(client):
    html = client.get("/").get_data(as_text=True)
    assert '<html lang="zh-CN">' in html and "嘉兴市中小企业信息化服务平台" in html
    response = client.post("/language", {"lang": "en", "next": "/auth/login"})
    assert response.headers["Location"].endswith("/auth/login")
    html = client.get("/auth/login").get_data(as_text=True)
    assert '<html lang="en">' in html and "Log in" in html
    client.post("/language", {"lang": "zh_CN"})
    assert "登录" in client.get("/auth/login").get_data(as_text=True)


def test_unknown_language_is_ignored(client):
    client.post("/language", {"lang": "xx"})
    assert '<html lang="zh-CN">' in client.get("/").get_data(as_text=True)


def test_language_choice_is_remembered_on_the_account(client, firm_a):
    client.login(firm_a.owner_email)
    client.post("/language", {"lang": "en"})
    client.logout()
    client.raw.delete_cookie("session")
    client.login(firm_a.owner_email)
    assert '<html lang="en">' in client.get("/firm/").get_data(as_text=True)


def test_dates_and_numbers_are_localised(app):
    when = datetime(2026, 3, 8, 9, 0, tzinfo=UTC)
    with app.test_request_context():
        with force_locale("zh_CN"):
            assert format_date(when, "long") == "2026年3月8日"
            assert format_decimal(1234567.5) == "1,234,567.5"
        with force_locale("en"):
            assert format_date(when, "long") == "March 8, 2026"
