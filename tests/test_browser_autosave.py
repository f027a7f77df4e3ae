"""Autosave the user can trust, in real Chromium against the live (threaded) server.

* 40 answers clicked 100 ms apart are all saved the first time (no 5xx) and all there after a reload: the threaded
  server sends concurrent saves, which SQLite used to refuse with ``database is locked``.
* While the server fails saves, the page says 未保存，正在重试 (and 已离线 when offline), keeps the question marked
  as not saved, warns before leaving, retries, and ends saved (checked in the database).
"""

from __future__ import annotations

import re
import threading
import time
import urllib.parse
import urllib.request
from collections import Counter
from http.cookiejar import CookieJar
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import CSRF_RE, PASSWORD, register_firm_in_browser, screenshot, valid_uscc

pytestmark = pytest.mark.browser

#: The first answer input of each question that has one to click: a radio (single, requirement, rows) or a box.
CLICKABLE = "fieldset.question:has(input[type=radio], input[type=checkbox][name^='q-'])"


def _start(browser: Any, live_server: Any, n: int, locale: str = "zh-CN") -> tuple[Any, Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale=locale)
    page = context.new_page()
    page.set_default_timeout(20000)
    register_firm_in_browser(
        page, live_server.url, name=f"嘉兴自动保存丝绸有限公司{n}", email=f"autosave{n}@jx.example", uscc=valid_uscc(n)
    )
    page.click("#nav-assessments")
    page.click("#start-assessment")
    page.wait_for_url("**/step/1")
    return context, page


def _click_answer(fieldset: Any) -> tuple[str, str, str]:
    """Choose the last option of the question's first radio group (or its first box); return what was chosen."""
    qid = fieldset.get_attribute("data-question")
    radios = fieldset.locator("input[type=radio]")
    if radios.count():
        name = radios.first.get_attribute("name")
        target = fieldset.locator(f"input[type=radio][name='{name}']").last
    else:
        target = fieldset.locator("input[type=checkbox][name^='q-']").first
    target.check()
    return qid, target.get_attribute("name"), target.get_attribute("value")


def _stored(live_server: Any, assessment_id: str) -> dict[str, Any]:
    """The answers in the live server's database (as the owner, which row-level security does not restrict)."""
    engine = create_engine(live_server.urls.owner)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                text("SELECT question_id, value FROM assessment_answers WHERE assessment_id = :a"),
                {"a": assessment_id if engine.dialect.name == "postgresql" else assessment_id.replace("-", "")},
            ).all()
    finally:
        engine.dispose()
    return dict(rows)


class Colleague(threading.Thread):
    """Another firm's owner autosaving answers over plain HTTP while the browser's user works: the live server then
    really serves concurrent writes (one user's saves 100 ms apart rarely overlap on their own)."""

    def __init__(self, live_server: Any, n: int) -> None:
        super().__init__(daemon=True)
        self.base = live_server.url
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        self.stop = threading.Event()
        self.codes: Counter = Counter()
        self.assessment = self._set_up(n)

    def _open(self, path: str, data: dict[str, str] | None = None) -> tuple[str, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        with self.opener.open(self.base + path, body, timeout=30) as response:
            return response.geturl(), response.read().decode()

    def _token(self, path: str) -> str:
        match = CSRF_RE.search(self._open(path)[1])
        assert match, path
        return match.group(1)

    def _set_up(self, n: int) -> str:
        form = {
            "csrf_token": self._token("/auth/register"),
            "firm_name": f"嘉兴同事丝绸有限公司{n}",
            "uscc": valid_uscc(n),
            "industry": "silk",
            "county": "nanhu",
            "employees": "40",
            "revenue_wan": "500",
            "contact_name": "李四",
            "owner_name": "李四",
            "email": f"colleague{n}@jx.example",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
        }
        assert self._open("/auth/register", form)[0].endswith("/firm/")
        url, html = self._open("/assessments/start", {"csrf_token": self._token("/assessments/")})
        assert url.endswith("/step/1"), url
        self.token = CSRF_RE.search(html).group(1)  # type: ignore[union-attr]
        self.answers = sorted(set(re.findall(r'type="radio" name="(q-[a-z0-9_]+)" value="([^"]+)"', html)))
        return url.split("/assessments/")[1].split("/")[0]

    def run(self) -> None:
        while not self.stop.is_set():
            for name, value in self.answers:
                if self.stop.is_set():
                    return
                data = {"csrf_token": self.token, "question_id": name[2:], name: value}
                try:
                    code = self.opener.open(
                        f"{self.base}/assessments/{self.assessment}/answer",
                        urllib.parse.urlencode(data).encode(),
                        timeout=30,
                    ).status
                except urllib.error.HTTPError as exc:
                    code = exc.code
                self.codes[code] += 1


def test_forty_answers_100_ms_apart_are_all_saved_and_found_after_a_reload(live_server, browser):
    context, page = _start(browser, live_server, 880001)
    colleague = Colleague(live_server, 880011)
    colleague.start()
    failures: list[tuple[int, str]] = []
    page.on("response", lambda r: failures.append((r.status, r.url)) if r.status >= 500 else None)
    chosen: dict[str, tuple[str, str, str]] = {}  # question id -> (page url, input name, value)
    step = 1
    while len(chosen) < 40:
        url = page.url
        for fieldset in page.locator(CLICKABLE).all():
            if len(chosen) == 40:
                break
            qid, name, value = _click_answer(fieldset)
            chosen[qid] = (url, name, value)
            page.wait_for_timeout(100)
        # every save answered before the page is left (the page would ask before leaving otherwise)
        page.wait_for_selector("#save-status[data-state=saved]")
        assert page.locator("fieldset.question.unsaved").count() == 0
        step += 1
        page.goto(url.rsplit("/", 1)[0] + f"/{step}")
    colleague.stop.set()
    colleague.join(30)
    assert failures == []
    assert colleague.codes and set(colleague.codes) == {200}, colleague.codes
    assessment_id = page.url.split("/assessments/")[1].split("/")[0]
    stored = _stored(live_server, assessment_id)
    assert set(chosen) <= set(stored), sorted(set(chosen) - set(stored))
    for qid, (url, name, value) in chosen.items():  # and the page shows each one after a reload
        if page.url != url:
            page.goto(url)
        assert page.locator(f"fieldset[data-question='{qid}'] input[name='{name}'][value='{value}']").is_checked(), qid
    context.close()


def test_failed_saves_are_shown_retried_and_end_saved(live_server, browser):
    context, page = _start(browser, live_server, 880002)
    failing = {"on": True}

    def answer(route: Any) -> None:
        if failing["on"]:
            route.fulfill(status=500, content_type="text/html", body="<h1>Internal Server Error</h1>")
        else:
            route.continue_()

    page.route("**/answer", answer)
    questions = page.locator(CLICKABLE)
    first = _click_answer(questions.nth(0))
    status = page.locator("#save-status")
    page.wait_for_selector("#save-status[data-state=retrying]")
    assert status.inner_text() == "未保存，正在重试"
    assert "unsaved" in (questions.nth(0).get_attribute("class") or "")
    assert questions.nth(0).locator(".q-unsaved").is_visible()
    screenshot(page, "autosave-retrying-zh")

    dialogs: list[str] = []

    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.type)
        dialog.dismiss()  # stay on the page

    page.on("dialog", on_dialog)
    page.locator("nav.steps a").nth(1).click()  # leaving with an unsaved answer asks first
    deadline = time.time() + 5
    while not dialogs and time.time() < deadline:
        page.wait_for_timeout(100)
    assert dialogs == ["beforeunload"] and page.url.endswith("/step/1")
    page.remove_listener("dialog", on_dialog)

    context.set_offline(True)
    second = _click_answer(questions.nth(1))
    page.wait_for_selector("#save-status[data-state=offline]")
    assert status.inner_text().startswith("已离线")
    screenshot(page, "autosave-offline-zh")
    assessment_id = page.url.split("/assessments/")[1].split("/")[0]
    assert not {first[0], second[0]} & set(_stored(live_server, assessment_id))  # nothing got through

    failing["on"] = False
    context.set_offline(False)  # back online: the queue is sent at once
    page.wait_for_selector("#save-status[data-state=saved]")
    assert page.locator("fieldset.question.unsaved").count() == 0
    assert status.inner_text().startswith("已保存")
    stored = _stored(live_server, assessment_id)
    assert {first[0], second[0]} <= set(stored)
    assert stored[first[0]] is not None and stored[second[0]] is not None
    screenshot(page, "autosave-saved-zh")
    context.close()


def test_the_unsaved_state_in_english(live_server, browser):
    context, page = _start(browser, live_server, 880003)
    page.click("#lang-en")
    page.wait_for_url("**/step/1")
    page.route("**/answer", lambda route: route.abort())
    _click_answer(page.locator(CLICKABLE).nth(0))
    page.wait_for_selector("#save-status[data-state=retrying]")
    assert page.locator("#save-status").inner_text() == "Not saved, retrying"
    assert page.locator("fieldset.question.unsaved .q-unsaved").inner_text() == "Not saved yet"
    screenshot(page, "autosave-retrying-en")
    context.set_offline(True)
    _click_answer(page.locator(CLICKABLE).nth(1))
    page.wait_for_selector("#save-status[data-state=offline]")
    assert page.locator("#save-status").inner_text().startswith("Offline")
    screenshot(page, "autosave-offline-en")
    context.close()
