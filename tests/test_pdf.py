"""PDF reports: the WeasyPrint boundary (saas/core/pdf.py), its URL fetcher, the time limit and the firm report."""

from __future__ import annotations

import ast
import base64
import gc
import logging
import re
import shutil
import subprocess
import tempfile
import threading
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from flask_babel import force_locale, gettext
from markupsafe import Markup

from saas.core import pdf
from tests.conftest import ROOT, app_session, service_missing

DIMENSIONS_ZH = (
    "战略与经营管理",
    "基础设施与网络安全",
    "研发设计",
    "生产与装备",
    "供应链与物流",
    "营销与服务",
    "数据、集成与智能",
    "人才与绿色",
)


def poppler(tool: str, data: bytes, *args: str) -> str:
    """Run a poppler-utils tool on ``data`` and return what it prints."""
    if shutil.which(tool) is None:
        service_missing(f"{tool} not found (apt-get install poppler-utils)")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "report.pdf"
        path.write_bytes(data)
        command = [tool, *args, str(path), *(["-"] if tool == "pdftotext" else [])]
        result = subprocess.run(command, capture_output=True, check=True, timeout=60)
    return result.stdout.decode("utf-8", errors="replace")


def page_count(data: bytes) -> int:
    match = re.search(r"^Pages:\s+(\d+)", poppler("pdfinfo", data), re.M)
    assert match, "pdfinfo printed no page count"
    return int(match.group(1))


def embedded_fonts(data: bytes) -> list[dict[str, str]]:
    """Return pdffonts' rows as dicts (name, type, emb, sub)."""
    lines = poppler("pdffonts", data).splitlines()[2:]
    rows = []
    for line in lines:
        parts = line.split()
        # name type... encoding emb sub uni object-id generation: the flags sit at fixed positions from the end
        rows.append({"name": parts[0], "emb": parts[-5], "sub": parts[-4]})
    return rows


def squeezed(text: str) -> str:
    """Drop all whitespace: table cells may wrap a long Chinese name over two lines."""
    return "".join(text.split())


# --- The firm report from a real submitted assessment ---------------------------------------------------------------


def report_contexts(app: Any, firm: Any, assessment_id: Any) -> tuple[dict[str, Any], dict[str, Any], bytes]:
    """Build the results page's context as the view does and turn it into report contexts (without and with peer
    figures); render the first one there, in the request context. Return both contexts and the PDF."""
    from saas.assessments import instruments, results, services
    from saas.models import Firm

    with app_session(app, firm.id) as s:  # a request context with the tenant set, as in assessments.views.results
        tenant = s.get(Firm, firm.id)
        assessment = services.get_assessment(s, tenant, assessment_id)
        instrument = instruments.engine_instrument(assessment.instrument_version)
        snapshot = services.latest_snapshot(s, tenant, assessment)
        built = results.build(s, tenant, assessment, instrument, snapshot, staff=False)
        with pytest.raises(TypeError, match="holds a"):
            pdf.check_context(built)  # ORM rows and engine objects never reach the PDF template
        alone = pdf.report_context(built, firm_name=tenant.name, report_date=date(2026, 3, 1))
        peers = pdf.report_context(built, firm_name=tenant.name, benchmark=synthetic_benchmark(built))
        return alone, peers, pdf.render_pdf("firm_report.html", alone)


def synthetic_benchmark(built: dict[str, Any]) -> dict[str, Any]:
    dims = [
        {"name": r["name"], "score": r["self"], "percentile": 12.5 + i, "p50": 50.0, "p90": 71.5}
        for i, r in enumerate(built["rows"])
        if r["role"] == "maturity"
    ]
    return {
        "cohort_label": "茧丝绸 · 南湖区 · 小型",
        "cohort_level": "industry+county",
        "n": 23,
        "sufficient": True,
        "overall": {"percentile": 17.4, "p25": 38.0, "p50": 49.5, "p75": 60.0, "p90": 72.25},
        "dimensions": dims,
        "radar_chart": built["radar_chart"],
    }


def test_firm_report_from_real_results(app, firm_a, submitted_assessment) -> None:
    assessment_id = submitted_assessment(firm_a, high=False)  # a low score: long advice, several pages
    alone, with_peers, data = report_contexts(app, firm_a, assessment_id)
    pdf.check_context(alone)  # plain values only, so it can be handed to a background job

    assert data.startswith(b"%PDF-")
    assert page_count(data) >= 3

    fonts = embedded_fonts(data)
    cjk = [f for f in fonts if "CJK" in f["name"]]
    assert cjk and all(f["emb"] == "yes" and f["sub"] == "yes" for f in cjk), fonts
    # Every glyph came from an embedded Noto CJK subset: no fallback font, no missing glyph boxes (tofu).
    assert all("Noto" in f["name"] and "CJK" in f["name"] and f["emb"] == "yes" for f in fonts), fonts

    text = poppler("pdftotext", data, "-enc", "UTF-8")
    flat = squeezed(text)
    assert "嘉兴甲丝绸有限公司" in flat
    missing = [name for name in DIMENSIONS_ZH if name not in flat]
    assert not missing, f"dimension names missing from the PDF text: {missing}"
    with app.test_request_context(), force_locale("zh_CN"):
        summary = gettext("Executive summary")
        no_peers = gettext(
            "Peer data is not yet available for your cohort, so percentile ranks cannot be shown yet. Your own "
            "scores follow; the report will show your position once the cohort statistics are published."
        )
    toc = re.search(re.escape(summary) + r"\s*\.{3,}\s*(\d+)", text)
    assert toc, "the contents lists no page number"
    outline = poppler("pdftohtml", data, "-xml", "-i", "-q", "-stdout")
    assert f'<item page="{toc.group(1)}">{summary}</item>' in outline  # headings are bookmarks, on the listed page
    assert squeezed(no_peers)[:20] in flat  # benchmark is None: the report says peer data is not yet available

    # The background worker renders with an app context only; the benchmark dict adds the peer figures.
    with app.app_context():
        data2 = pdf.render_pdf("firm_report.html", with_peers)
    flat2 = squeezed(poppler("pdftotext", data2, "-enc", "UTF-8"))
    assert "茧丝绸·南湖区·小型" in flat2 and "n=23" in flat2
    assert "72.2" in flat2 or "72.3" in flat2  # the cohort's overall P90


# --- A plain context built by hand (no database) ----------------------------------------------------------------


def plain_context(**overrides: Any) -> dict[str, Any]:
    """Return a minimal context of pdf/firm_report.html, shaped like saas.core.pdf.report_context's output."""
    rows = [
        {"id": f"d{i}", "name": name, "role": "maturity", "weight": 10, "self": 30.0 + i, "evidence": 30.0 + i,
         "verified": None, "score": 30.0 + i, "level": 0, "level_name": "未达级", "band": 1, "insufficient": False,
         "na_share": 0.0}
        for i, name in enumerate(DIMENSIONS_ZH)
    ]  # fmt: skip
    context = {
        "firm_name": "嘉兴测试丝绸有限公司",
        "report_date": date(2026, 3, 1),
        "assessment": {"round": 0, "industry": "silk", "submitted_at": datetime(2026, 2, 1, 9), "kind": "submitted"},
        "instrument": {
            "id": "jiaxing-v1",
            "version": "1.0.0",
            "title": "嘉兴市中小企业信息化成熟度评估（第1版）",
            "band_cutpoints": [20.0, 40.0, 60.0, 80.0],
            "band_labels": ["未起步", "一级", "二级", "三级", "四级"],
            "level_names": ["未达级", "规划级", "规范级", "集成级", "优化级", "引领级"],
            "staircase": [[60.0], [75.0, 60.0]],
            "overall_cap_above_min": 1,
            "cost_tiers": [{"tier": 1, "label": "低于5万元"}],
            "min_delta": 5.0,
            "composite_maturity": 0.85,
            "composite_outcome": 0.15,
        },
        "engine_version": "1.0.0",
        "view": {"name": "self", "composite": 33.3, "maturity": 31.0, "outcome": 50.0, "band": 1, "level": 0,
                 "provisional": False},
        "band_label": "一级",
        "level_name": "未达级",
        "next_level": {"level": 1, "name": "规划级"},
        "radar_chart": Markup("<svg xmlns='http://www.w3.org/2000/svg' class='chart' viewBox='0 0 10 10'></svg>"),
        "history_chart": None,
        "history": [],
        "rows": rows,
        "strengths": rows[-2:][::-1],
        "weaknesses": rows[:2],
        "priorities": [],
        "advice": [],
        "deltas": None,
        "benchmark": None,
        "method": {"min_n": 10, "window_months": 24, "cohort_chain": list(pdf.COHORT_CHAIN)},
    }  # fmt: skip
    context.update(overrides)
    return context


def test_small_cohort_shows_no_peer_figures(app) -> None:
    """A cohort below its minimum n (sufficient = False) is named with its n, but no rank or quantile is printed."""
    small = {
        "cohort_label": "木业 · 海盐县",
        "cohort_level": "city",
        "n": 4,
        "sufficient": False,
        "overall": {"percentile": 61.25, "p25": 41.25, "p50": 47.25, "p75": 52.25, "p90": 58.25},
        "dimensions": [{"name": DIMENSIONS_ZH[0], "score": 30.0, "percentile": 63.75, "p50": 44.25, "p90": 55.25}],
        "radar_chart": None,
    }
    with app.app_context():
        context = plain_context(benchmark=small)
        data = pdf.render_pdf("firm_report.html", context)
        with force_locale("zh_CN"):
            note = gettext("too few firms so far")
    flat = squeezed(poppler("pdftotext", data, "-enc", "UTF-8"))
    assert "木业·海盐县" in flat and "n=4" in flat and squeezed(note) in flat
    for figure in ("61.2", "47.2", "58.2", "63.8", "44.2", "55.2"):
        assert figure not in flat.replace("2026", ""), figure


HOSTILE = [
    "http://127.0.0.1:1/x.png",
    "file:///etc/passwd",
    "https://example.com/x.png",
    "http://169.254.169.254/latest/meta-data/",
    "jx-assets:/../../config.py",
]


def test_refused_resources_leave_the_rendering_going(app, caplog) -> None:
    """A chart (Markup, so not escaped) smuggling external references: all refused and logged, the PDF still made."""
    smuggled = Markup(
        '<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 10 10">'
        '<image href="http://169.254.169.254/latest/meta-data/" width="10" height="10"/></svg>'
        '<img src="http://127.0.0.1:1/x.png" alt="">'
        '<link rel="stylesheet" href="file:///etc/passwd">'
        '<div style="background: url(https://example.com/x.png)">x</div>'
        '<img src="jx-assets:/../../config.py" alt="">'
    )
    with caplog.at_level(logging.WARNING, logger="saas.core.pdf"), app.app_context():
        data = pdf.render_pdf("firm_report.html", plain_context(radar_chart=smuggled))
    assert data.startswith(b"%PDF-")
    refused = "\n".join(r.getMessage() for r in caplog.records if r.name == "saas.core.pdf")
    for url in HOSTILE:
        assert url in refused, f"no refusal logged for {url}"
    assert b"root:" not in data


def test_html_with_hostile_links_still_renders(caplog) -> None:
    html = (
        '<html><head><link rel="stylesheet" href="file:///etc/passwd">'
        "<style>@import url(http://127.0.0.1:5000/evil.css); p { background: url(ftp://example.com/x) }</style>"
        '</head><body><p>你好</p><img src="http://127.0.0.1:1/x"></body></html>'
    )
    with caplog.at_level(logging.WARNING, logger="saas.core.pdf"):
        data = pdf.html_to_pdf(html)
    assert data.startswith(b"%PDF-")
    refused = "\n".join(r.getMessage() for r in caplog.records if r.name == "saas.core.pdf")
    for url in ("file:///etc/passwd", "http://127.0.0.1:5000/evil.css", "ftp://example.com/x", "http://127.0.0.1:1/x"):
        assert url in refused


# --- The fetcher's rules ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "FILE:///etc/passwd",
        "http://127.0.0.1:5000/x",
        "http://localhost/x",
        "http://[::1]/x",
        "https://example.com/x.png",
        "ftp://example.com/x",
        "//127.0.0.1/static/css/app.css",
        "jx-assets://127.0.0.1/static/css/app.css",
        "jx-assets:/../../config.py",
        "jx-assets:/static/../../../config.py",
        "jx-assets:/static/%2e%2e/%2e%2e/config.py",
        "static/..%2f..%2fconfig.py",
        "jx-assets:/static/css\\..\\..\\config.py",
        "jx-assets:/pdf/firm_report.html",  # templates are not served
        "jx-assets:/config.py",
        "jx-assets:/static/css/missing.css",
        "data:image/png;base64," + "A" * (100 * 1024),
    ],
)
def test_fetcher_refuses(url: str, caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="saas.core.pdf"), pytest.raises(pdf.FetchRefused):
        pdf.safe_fetcher(url)
    assert any("refused" in r.getMessage() for r in caplog.records if r.name == "saas.core.pdf")
    assert all(len(r.getMessage()) < 400 for r in caplog.records)  # a 100 KB data: URL is not copied into the log


def test_fetcher_serves_our_assets_and_small_data_urls() -> None:
    pixel = base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"\0" * 64).decode()
    response = pdf.safe_fetcher(f"data:image/png;base64,{pixel}")
    assert response.read().startswith(b"\x89PNG") and response.content_type == "image/png"
    assert pdf.safe_fetcher("data:text/plain,hello%20world").read() == b"hello world"

    app_css = pdf.safe_fetcher("jx-assets:/static/css/app.css")
    assert app_css.read() == (ROOT / "saas" / "static" / "css" / "app.css").read_bytes()
    assert app_css.content_type == "text/css"
    report_css = pdf.safe_fetcher("pdf/report.css")  # a relative URL resolves from the asset root
    assert b"@page" in report_css.read() and report_css.url == "jx-assets:/pdf/report.css"


# --- Time limit, context and boundary -------------------------------------------------------------------------------


# The stop request is an asynchronous exception; when it lands in a finaliser (a collected FontConfiguration.__del__)
# CPython reports it as unraisable and the reaper sends another. That report is expected here.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_rendering_is_time_limited_and_the_overdue_thread_stops() -> None:
    html = "<body>" + "<p>嘉兴市中小企业信息化成熟度评估，战略与经营管理。</p>" * 6000 + "</body>"
    start = time.perf_counter()
    with pytest.raises(pdf.PdfTimeout):
        pdf.html_to_pdf(html, timeout_s=0.2)
    assert time.perf_counter() - start < 1.5
    deadline = time.monotonic() + 5
    while any(t.name == "pdf-render" for t in threading.enumerate()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(t.name == "pdf-render" for t in threading.enumerate()), "the overdue render kept running"
    assert gc.get_freeze_count() == 0  # the stopped render gave the frozen objects back to the collector


def test_old_objects_are_frozen_only_during_the_render() -> None:
    assert gc.get_freeze_count() == 0
    pdf.html_to_pdf("<p>你好</p>")
    assert gc.get_freeze_count() == 0
    gc.freeze()  # a worker that froze its start-up objects keeps them frozen
    try:
        before = gc.get_freeze_count()
        pdf.html_to_pdf("<p>你好</p>")
        # left frozen (an unfreeze would give 0); the count may drop if another thread frees a frozen object meanwhile
        assert 0 < gc.get_freeze_count() <= before
    finally:
        gc.unfreeze()


def test_context_must_be_plain_values(app) -> None:
    class Row:  # stands in for an ORM object, whose attributes could lazy-load during rendering
        name = "x"

    with app.app_context(), pytest.raises(TypeError, match=r"context\['firm'\] holds a Row"):
        pdf.render_pdf("firm_report.html", {**plain_context(), "firm": Row()})


def test_only_saas_pdf_imports_weasyprint() -> None:
    offenders = []
    for folder in ("saas", "scoring", "bench"):
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                names = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module:
                    names = [node.module]
                if any(n == "weasyprint" or n.startswith("weasyprint.") for n in names):
                    offenders.append(str(path.relative_to(ROOT)))
    assert sorted(set(offenders)) == ["saas/core/pdf.py"]


def test_rendering_a_pdf_leaves_pillow_refusing_truncated_images():
    """WeasyPrint sets ``LOAD_TRUNCATED_IMAGES`` when imported; after a render in this process the upload checks must
    still refuse truncated photos (found when the billing tests rendered a PDF before the image tests ran)."""
    from PIL import ImageFile

    assert pdf._write_pdf("<p>x</p>").startswith(b"%PDF")
    assert ImageFile.LOAD_TRUNCATED_IMAGES is False
