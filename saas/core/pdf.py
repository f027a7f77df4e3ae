"""PDF rendering: the only module that imports WeasyPrint.

``render_pdf("firm_report.html", context)`` renders ``templates/pdf/firm_report.html`` with Flask's
``render_template`` and turns the HTML into PDF bytes with WeasyPrint. Three rules keep it safe and movable into a job:

* **Own resources only.** The document's base URL is the private ``jx-assets:/`` scheme and every resource (CSS,
  images, fonts, SVG ``href``) goes through :func:`safe_fetcher`, which serves files from two directories and small
  ``data:`` URLs and refuses everything else (http, https, ftp, file, loopback, …), logging each refusal. A refused
  resource is left out; the rendering goes on.
* **Plain context.** The context must hold plain values only (str, numbers, dates, ``Markup``, lists and dicts of
  them): no ORM rows, so no lazy loads happen during rendering and the context can be pickled for a worker.
  :func:`report_context` turns the results page's context into such a dict.
* **Time limit.** WeasyPrint runs in a worker thread; see :func:`html_to_pdf` for what the limit can and cannot do.

Fonts come from the system through fontconfig (Debian's ``fonts-noto-cjk``); WeasyPrint embeds subsets of them.
WeasyPrint itself is imported on first use, so importing this module costs nothing at app start.
"""

from __future__ import annotations

import base64
import binascii
import ctypes
import gc
import logging
import re
import threading
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import unquote, unquote_to_bytes

from flask import current_app, has_request_context, render_template
from flask_babel import force_locale, to_user_timezone
from flask_babel import gettext as _

from saas.web.charts import bar_svg
from saas.web.lang import ui_lang

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
SCHEME = "jx-assets"
BASE_URL = f"{SCHEME}:/"
#: First path segment of a ``jx-assets:`` URL → the directory it serves (``jx-assets:/static/css/app.css``).
ASSET_ROOTS: dict[str, Path] = {"static": ROOT / "saas" / "static", "pdf": ROOT / "templates" / "pdf"}
#: Only these file types are served, so templates and anything else in those directories stay private.
ASSET_TYPES = {
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".woff": "font/woff",
    ".woff2": "font/woff2",
    ".ttf": "font/ttf",
    ".otf": "font/otf",
}
DATA_URL_MAX = 64 * 1024  # characters of the whole data: URL
DEFAULT_TIMEOUT_S = 20.0
_SCHEME_RE = re.compile(r"^([a-zA-Z][a-zA-Z0-9.+-]*):")
_DATA_RE = re.compile(r"^data:(?P<type>[^,;]*)(?P<params>(?:;[^,;]*)*),(?P<payload>.*)$", re.DOTALL | re.IGNORECASE)


class PdfError(Exception):
    """Rendering a PDF failed."""


class PdfTimeout(PdfError):
    """Rendering took longer than its time limit."""


class FetchRefused(ValueError):
    """The URL fetcher refused a resource (WeasyPrint logs it, leaves the resource out and carries on)."""


class _Aborted(BaseException):
    """Raised inside an overdue render thread; a BaseException so WeasyPrint's ``except Exception`` cannot eat it."""


# --- URL fetcher ------------------------------------------------------------------------------------------------


def _shown(url: str) -> str:
    """Return ``url`` shortened and escaped for a log line (a refused data: URL may be megabytes)."""
    text = url if len(url) <= 120 else f"{url[:100]}…({len(url)} chars)"
    return text.encode("unicode_escape").decode("ascii")


def _refuse(url: str, reason: str) -> FetchRefused:
    log.warning("PDF resource refused: %s (%s)", _shown(url), reason)
    return FetchRefused(f"{reason}: {_shown(url)}")


def _data_url(url: str) -> tuple[bytes, str]:
    if len(url) > DATA_URL_MAX:
        raise _refuse(url, f"data: URL larger than {DATA_URL_MAX // 1024} KiB")
    match = _DATA_RE.match(url)
    if match is None:
        raise _refuse(url, "malformed data: URL")
    params = [p.strip().lower() for p in match["params"].split(";") if p.strip()]
    media_type = match["type"].strip().lower() or "text/plain"
    try:
        if "base64" in params:
            body = base64.b64decode(unquote(match["payload"]), validate=False)
        else:
            body = unquote_to_bytes(match["payload"])
    except (binascii.Error, ValueError):
        raise _refuse(url, "undecodable data: URL") from None
    charset = next((p for p in params if p.startswith("charset=")), None)
    return body, f"{media_type}; {charset}" if charset else media_type


def _asset(url: str, path: str) -> tuple[Path, str, str]:
    path = unquote(path.split("#", 1)[0].split("?", 1)[0])
    if "\\" in path or "\x00" in path:
        raise _refuse(url, "bad character in path")
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise _refuse(url, "path traversal")
    if len(parts) < 2 or parts[0] not in ASSET_ROOTS:
        raise _refuse(url, "not under an asset directory")
    root = ASSET_ROOTS[parts[0]].resolve()
    target = root.joinpath(*parts[1:]).resolve()
    content_type = ASSET_TYPES.get(target.suffix.lower())
    if not target.is_relative_to(root):
        raise _refuse(url, "outside the asset directory")
    if content_type is None:
        raise _refuse(url, "file type not served")
    if not target.is_file():
        raise _refuse(url, "no such asset")
    return target, content_type, f"{BASE_URL}{parts[0]}/{target.relative_to(root).as_posix()}"


def resolve_resource(url: str) -> tuple[bytes, str, str]:
    """Apply the fetcher's rules to ``url``; return ``(body, content type, canonical url)`` or raise FetchRefused.

    Allowed: ``jx-assets:/static/<file>`` (``saas/static/``), ``jx-assets:/pdf/<file>`` (``templates/pdf/``), the
    same paths without a scheme (relative URLs resolve from the asset root), for the file types in ``ASSET_TYPES``
    only, with no ``..`` segments and no symlink leaving the directory; and ``data:`` URLs up to 64 KiB.
    Everything else is refused: any other scheme (http, https, ftp, file, …), hence any host, loopback included.
    """
    if url[:5].lower() == "data:":
        body, content_type = _data_url(url)
        return body, content_type, "data:"
    match = _SCHEME_RE.match(url)
    if match is not None and match[1].lower() != SCHEME:
        raise _refuse(url, f"scheme {match[1].lower()!r} not allowed")
    target, content_type, canonical = _asset(url, url[match.end() :] if match else url)
    return target.read_bytes(), content_type, canonical


def safe_fetcher(url: str) -> Any:
    """WeasyPrint URL fetcher: return a ``URLFetcherResponse`` for an allowed URL, else raise :class:`FetchRefused`.

    The rules are those of :func:`resolve_resource`; every refusal is logged at WARNING on ``saas.core.pdf``.
    """
    from weasyprint.urls import URLFetcherResponse

    _strict_pillow()

    body, content_type, canonical = resolve_resource(url)
    return URLFetcherResponse(canonical, body, {"Content-Type": content_type})


@cache
def _fetcher() -> Any:
    """Return the URLFetcher instance WeasyPrint 70 expects, delegating every fetch to :func:`safe_fetcher`."""
    from weasyprint.urls import URLFetcher

    _strict_pillow()

    class SafeURLFetcher(URLFetcher):
        def __init__(self) -> None:
            super().__init__(allowed_protocols=(), allow_redirects=False, fail_on_errors=False)

        def fetch(self, url: str, headers: Any = None) -> Any:
            return safe_fetcher(url)

    return SafeURLFetcher()


# --- Rendering --------------------------------------------------------------------------------------------------

_SCALARS = (str, int, float, bool, type(None), date, datetime, Decimal, uuid.UUID)


def check_context(value: Any, where: str = "context") -> None:
    """Raise TypeError unless ``value`` holds only plain values (``Markup`` counts as str) in dicts, lists, tuples."""
    if isinstance(value, _SCALARS):
        return
    if isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"PDF {where} has a non-string key {key!r}")
            check_context(item, f"{where}[{key!r}]")
        return
    if isinstance(value, list | tuple):
        for i, item in enumerate(value):
            check_context(item, f"{where}[{i}]")
        return
    raise TypeError(f"PDF {where} holds a {type(value).__name__}; pass plain values (see saas.core.pdf.report_context)")


def _strict_pillow() -> None:
    """Undo WeasyPrint's import-time ``ImageFile.LOAD_TRUNCATED_IMAGES = True``: the process's upload checks
    (product images, evidence) must keep refusing truncated files after a PDF was rendered in it."""
    from PIL import ImageFile

    ImageFile.LOAD_TRUNCATED_IMAGES = False


def _write_pdf(html: str) -> bytes:
    from weasyprint import HTML

    _strict_pillow()

    return HTML(string=html, base_url=BASE_URL, url_fetcher=_fetcher()).write_pdf()


class _Render:
    """One render in a worker thread that can be asked to stop (see :func:`html_to_pdf`)."""

    def __init__(self, html: str, *, unfreeze: bool) -> None:
        self.html = html
        self.unfreeze = unfreeze  # the caller froze the GC's old objects for us: unfreeze when done
        self.lock = threading.Lock()
        self.running = False  # inside WeasyPrint; abort() injects only then (checked under the lock)
        self.done = threading.Event()
        self.pdf: bytes | None = None
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self.run, name="pdf-render", daemon=True)

    def run(self) -> None:
        # Two layers of handlers: an _Aborted injected just before `running` turns False can land after the inner
        # handlers, and none is injected before `running` turns True or after it turns False again.
        try:
            try:
                try:
                    with self.lock:
                        self.running = True
                    pdf = _write_pdf(self.html)
                finally:
                    with self.lock:
                        self.running = False
                self.pdf = pdf
            except _Aborted:
                log.warning("PDF render thread stopped after its time limit")
            except BaseException as exc:  # noqa: BLE001 - handed over to the waiting caller
                self.error = exc
        except _Aborted:
            pass
        finally:
            if self.unfreeze:
                gc.unfreeze()
            self.done.set()

    def abort(self) -> None:
        """Inject :class:`_Aborted` into the render thread if it is inside WeasyPrint."""
        with self.lock:
            if self.running and self.thread.ident is not None:
                thread_id, exc = ctypes.c_ulong(self.thread.ident), ctypes.py_object(_Aborted)
                ctypes.pythonapi.PyThreadState_SetAsyncExc(thread_id, exc)

    def reap(self, every_s: float = 0.05, give_up_s: float = 30.0) -> None:
        """Repeat abort() until the thread ends: an injection landing in a finaliser (``__del__``) is swallowed."""
        deadline = time.monotonic() + give_up_s
        while not self.done.is_set():
            self.abort()
            if self.done.wait(every_s):
                return
            if time.monotonic() > deadline:
                log.error("PDF render thread still running %.0f s after its time limit", give_up_s)
                return


def html_to_pdf(html: str, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> bytes:
    """Turn ``html`` into PDF bytes with WeasyPrint, using :func:`safe_fetcher`; raise PdfTimeout after ``timeout_s``.

    How the limit works, honestly: WeasyPrint has no cancellation hook, so it runs in a daemon thread and the caller
    stops waiting after ``timeout_s`` and raises :class:`PdfTimeout` at once. A reaper thread then stops the overdue
    render with an asynchronous exception (``PyThreadState_SetAsyncExc``, repeated every 50 ms because one landing in
    a finaliser is lost). CPython delivers it at the thread's next Python bytecode, so layout (pure Python) stops
    within milliseconds. It cannot break into one long C call (a Pango, Cairo or HarfBuzz call): that call finishes
    first, still using CPU and memory, and its result is thrown away. No signals are used, so this works in any
    thread (web workers, RQ work horses). An asynchronous exception is a blunt tool (it could, rarely, land between
    a lock's acquire and its ``try``); the hard limit for background rendering is the RQ job timeout, which kills
    the whole work horse process.

    Speed: WeasyPrint makes a lot of cyclic garbage, and each full collection would also walk every object the app
    holds (some 240,000 in a worker), about a third of the render time. So the objects alive when rendering starts
    are moved out of the collector's sight with ``gc.freeze()`` and given back with ``gc.unfreeze()`` when the
    render ends (nothing is lost: garbage among them is collected later). If the process already has frozen objects
    (a worker that froze after start-up), the freeze is left alone.
    """
    _fetcher()  # import WeasyPrint here, never in the thread: an import cut short by abort() would be half done
    froze = gc.get_freeze_count() == 0
    if froze:
        gc.freeze()
    render = _Render(html, unfreeze=froze)
    started = time.perf_counter()
    render.thread.start()
    if not render.done.wait(timeout_s):
        threading.Thread(target=render.reap, name="pdf-reaper", daemon=True).start()
        log.error("PDF rendering exceeded %.1f s; stopping it", timeout_s)
        raise PdfTimeout(f"PDF rendering took longer than {timeout_s:g} s")
    if render.error is not None:
        raise render.error
    assert render.pdf is not None
    log.info("PDF rendered in %.2f s (%d bytes)", time.perf_counter() - started, len(render.pdf))
    return render.pdf


def render_pdf(
    template: str, context: Mapping[str, Any], *, timeout_s: float = DEFAULT_TIMEOUT_S, locale: str | None = None
) -> bytes:
    """Render ``templates/pdf/<template>`` with ``context`` and return the PDF bytes.

    Needs an app context; a request context is optional. Without a request (a background job) the locale is
    ``locale`` or else ``BABEL_DEFAULT_LOCALE``; with a request it is the request's locale unless ``locale`` is given.
    Raises TypeError for a context that is not plain values (:func:`check_context`), and :class:`PdfTimeout` when
    WeasyPrint takes longer than ``timeout_s`` (the Jinja step before it, milliseconds, is not limited).
    """
    check_context(context)
    if locale is None and not has_request_context():
        locale = current_app.config.get("BABEL_DEFAULT_LOCALE", "zh_CN")
    if locale is None:
        html = render_template(f"pdf/{template}", **context)
    else:
        with force_locale(locale):
            html = render_template(f"pdf/{template}", **context)
    return html_to_pdf(html, timeout_s=timeout_s)


# --- Report context ---------------------------------------------------------------------------------------------

#: Cohort rules printed in the method appendix unless the benchmark dict says otherwise (docs/scoring.md §15).
METHOD_DEFAULTS = {"min_n": 10, "window_months": 24}
COHORT_CHAIN = ("industry+county+size", "industry+county", "industry+size", "industry", "city")


def _plain(value: Any) -> Any:
    """Return a deep copy of dicts/lists/tuples of plain values (lists for tuples)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _benchmark(benchmark: Mapping[str, Any]) -> dict[str, Any]:
    """Copy the benchmark dict, adding a percentile bar (SVG from saas.web.charts) where the caller gave none."""
    plain = _plain(benchmark)
    overall = plain.setdefault("overall", {})
    for i, d in enumerate([overall, *(plain.get("dimensions") or [])]):
        if d.get("bar") is None:
            shown = "—" if d.get("percentile") is None else format(d["percentile"], ".0f")
            label = _("Percentile rank %(p)s", p=shown)
            d["bar"] = bar_svg(d.get("percentile"), label=label, chart_id=f"pct-{d.get('id', i)}")
    return plain


def report_context(
    results: Mapping[str, Any],
    *,
    firm_name: str,
    benchmark: Mapping[str, Any] | None = None,
    report_date: date | None = None,
    lang: str | None = None,
) -> dict[str, Any]:
    """Return the plain-value context of ``pdf/firm_report.html`` from the results page's context.

    ``results`` is what ``saas.assessments.results.build`` returns; call both under the same locale (``lang`` is the
    engine language, "zh" or "en", by default the current locale's). ``benchmark`` is the firm's cohort position, or
    None while no peer data exists: ``cohort_label``, ``n``, ``overall`` {percentile, p25, p50, p75, p90},
    ``dimensions`` [{name, score, percentile, p50, p90}], ``radar_chart`` (Markup); optionally ``sufficient``
    (False: the cohort is below its minimum n, no figures shown), ``cohort_level`` (a ``COHORT_CHAIN`` key),
    ``strips`` {metric id: Markup}, a ``bar`` (Markup) and ``id`` per metric, ``min_n`` and ``window_months``.
    ``saas.benchmarking.report.build`` gives exactly this.
    """
    view, instrument = results["view"], results["instrument"]
    snapshot, assessment = results["snapshot"], results["assessment"]
    lang = lang or ui_lang()
    params = instrument.params
    view_name = view.view
    rows = []
    for row in results["rows"]:
        plain = _plain(row)
        plain["score"] = row.get(view_name) if row.get(view_name) is not None else row.get("self")
        rows.append(plain)
    ranked = sorted((r for r in rows if r["role"] == "maturity" and r["score"] is not None), key=lambda r: -r["score"])
    strengths = ranked[:2]
    weaknesses = [r for r in ranked[::-1][:2] if r not in strengths][::-1]
    level = view.level
    next_level = None
    if level is not None and level + 1 < len(params.level_names):
        next_level = {"level": level + 1, "name": params.level_names[level + 1].get(lang)}
    method = dict(METHOD_DEFAULTS)
    if benchmark:
        method.update({k: benchmark[k] for k in METHOD_DEFAULTS if benchmark.get(k) is not None})
    history = [
        {"date": h["date"], "composite": h["snapshot"].composite, "current": h["assessment"].id == assessment.id}
        for h in results.get("history_rows") or []
    ]
    return {
        "firm_name": firm_name,
        "report_date": report_date or to_user_timezone(datetime.now(UTC)).date(),
        "assessment": {
            "round": assessment.round,
            "industry": assessment.industry,
            "submitted_at": assessment.submitted_at,
            "verified_at": getattr(assessment, "verified_at", None),
            "kind": snapshot.kind,
        },
        "instrument": {
            "id": instrument.id,
            "version": instrument.version,
            "title": instrument.title.get(lang),
            "band_cutpoints": list(params.band_cutpoints),
            "band_labels": [t.get(lang) for t in params.band_labels],
            "level_names": [t.get(lang) for t in params.level_names],
            "staircase": [list(row) for row in params.staircase],
            "overall_cap_above_min": params.overall_cap_above_min,
            "cost_tiers": [{"tier": t.tier, "label": t.label.get(lang)} for t in params.cost_tiers],
            "min_delta": params.min_delta,
            "composite_maturity": params.composite_maturity,
            "composite_outcome": params.composite_outcome,
        },
        "engine_version": snapshot.engine_version,
        "view": {
            "name": view_name,
            "composite": view.composite,
            "maturity": view.maturity,
            "outcome": view.outcome,
            "band": view.band,
            "level": level,
            "provisional": view.provisional,
        },
        "band_label": results.get("band_label"),
        "level_name": results.get("level_name"),
        "next_level": next_level,
        "radar_chart": results.get("radar_chart"),
        "history_chart": results.get("history_chart"),
        "history": history,
        "rows": rows,
        "strengths": strengths,
        "weaknesses": weaknesses,
        "priorities": _plain(results.get("priorities") or []),
        "advice": _plain(results.get("advice") or []),
        "deltas": _plain(results["deltas"]) if results.get("deltas") is not None else None,
        "benchmark": _benchmark(benchmark) if benchmark else None,
        "method": {**method, "cohort_chain": list(COHORT_CHAIN)},
    }
