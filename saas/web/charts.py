"""Server-side SVG charts shared by the web pages and the PDF reports.

Every chart is a self-contained ``<svg>`` with ``role="img"``, a ``<title>`` and a ``<desc>``; colours and fonts are
presentation attributes (the CSP forbids inline styles), and the text uses a CJK font so Chinese labels render in
browsers and in WeasyPrint alike. Callers show a data table next to each chart for screen readers and printing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from xml.sax.saxutils import escape

from markupsafe import Markup

FONT = "Noto Sans CJK SC, Noto Sans SC, PingFang SC, Microsoft YaHei, sans-serif"
PALETTE = ("#1f6feb", "#d4a72c", "#1a7f37", "#8250df", "#cf222e")


@dataclass(frozen=True)
class Series:
    """One polygon or line: a name for the legend, 0–100 values (None = not scored) and a colour."""

    name: str
    values: Sequence[float | None]
    color: str
    dashed: bool = False


def _attr(value: object) -> str:
    return escape(str(value), {'"': "&quot;"})


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _open(width: int, height: int, title: str, desc: str, chart_id: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-labelledby="{chart_id}-title {chart_id}-desc" class="chart" font-family="{_attr(FONT)}">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>',
    ]


def _legend(series: Sequence[Series], x: float, y: float) -> list[str]:
    parts = []
    for i, s in enumerate(series):
        yy = y + i * 18
        dash = ' stroke-dasharray="5 3"' if s.dashed else ""
        parts.append(
            f'<line x1="{_num(x)}" y1="{_num(yy)}" x2="{_num(x + 22)}" y2="{_num(yy)}" stroke="{s.color}" '
            f'stroke-width="3"{dash}/>'
            f'<text x="{_num(x + 28)}" y="{_num(yy + 4)}" font-size="12" fill="#1b1f24">{escape(s.name)}</text>'
        )
    return parts


def radar_svg(
    labels: Sequence[str], series: Sequence[Series], *, title: str, desc: str, chart_id: str = "radar", size: int = 460
) -> Markup:
    """Draw a radar chart of 0–100 scores, one axis per label, with rings at 20/40/60/80/100."""
    n = len(labels)
    legend_h = 18 * len(series) + 10
    # Labels sit outside the rings; the canvas is wider than tall so long Chinese labels are never clipped.
    width = size + 140
    cx, cy, radius = width / 2, size / 2, size / 2 - 50
    parts = _open(width, size + legend_h, title, desc, chart_id)

    def point(i: int, value: float, extra: float = 0.0) -> tuple[float, float]:
        angle = -math.pi / 2 + 2 * math.pi * i / n
        r = radius * max(0.0, min(100.0, value)) / 100 + extra
        return cx + r * math.cos(angle), cy + r * math.sin(angle)

    for ring in (20, 40, 60, 80, 100):
        pts = " ".join(f"{_num(x)},{_num(y)}" for x, y in (point(i, ring) for i in range(n)))
        parts.append(f'<polygon points="{pts}" fill="none" stroke="#d0d7de" stroke-width="1"/>')
        x, y = point(0, ring)
        parts.append(f'<text x="{_num(x + 4)}" y="{_num(y + 4)}" font-size="10" fill="#57606a">{ring}</text>')
    for i, label in enumerate(labels):
        x, y = point(i, 100)
        parts.append(
            f'<line x1="{_num(cx)}" y1="{_num(cy)}" x2="{_num(x)}" y2="{_num(y)}" stroke="#d0d7de" stroke-width="1"/>'
        )
        lx, ly = point(i, 100, 16)
        anchor = "middle" if abs(lx - cx) < 8 else ("start" if lx > cx else "end")
        parts.append(
            f'<text x="{_num(lx)}" y="{_num(ly + 4)}" font-size="13" text-anchor="{anchor}" fill="#1b1f24">'
            f"{escape(label)}</text>"
        )
    for s in series:
        pts = " ".join(f"{_num(x)},{_num(y)}" for x, y in (point(i, v or 0) for i, v in enumerate(s.values)))
        dash = ' stroke-dasharray="6 4"' if s.dashed else ""
        parts.append(
            f'<polygon points="{pts}" fill="{s.color}" fill-opacity="0.12" stroke="{s.color}" '
            f'stroke-width="2.5"{dash}/>'
        )
        for i, v in enumerate(s.values):
            x, y = point(i, v or 0)
            fill = s.color if v is not None else "#ffffff"
            parts.append(f'<circle cx="{_num(x)}" cy="{_num(y)}" r="3.5" fill="{fill}" stroke="{s.color}"/>')
    parts += _legend(series, 16, size + 6)
    parts.append("</svg>")
    return Markup("".join(parts))


def history_svg(
    points: Sequence[tuple[date | datetime, float]],
    *,
    title: str,
    desc: str,
    date_format: object = None,
    chart_id: str = "history",
    width: int = 560,
    height: int = 240,
    bands: Sequence[float] = (20, 40, 60, 80),
) -> Markup:
    """Draw the composite score over time, one marker per assessment, with the band cut-points as guides."""
    left, right, top, bottom = 40, 44, 16, 36  # room for the last date label
    plot_w, plot_h = width - left - right, height - top - bottom
    parts = _open(width, height, title, desc, chart_id)

    def y_of(value: float) -> float:
        return top + plot_h * (1 - max(0.0, min(100.0, value)) / 100)

    for cut in (0, *bands, 100):
        y = y_of(cut)
        parts.append(
            f'<line x1="{left}" y1="{_num(y)}" x2="{width - right}" y2="{_num(y)}" stroke="#eaeef2" stroke-width="1"/>'
            f'<text x="{left - 6}" y="{_num(y + 4)}" font-size="10" text-anchor="end" fill="#57606a">{_num(cut)}</text>'
        )
    if points:
        step = plot_w / max(1, len(points) - 1)
        coords = [(left + (step * i if len(points) > 1 else plot_w / 2), y_of(v)) for i, (_, v) in enumerate(points)]
        path = " ".join(f"{_num(x)},{_num(y)}" for x, y in coords)
        parts.append(f'<polyline points="{path}" fill="none" stroke="{PALETTE[0]}" stroke-width="2.5"/>')
        fmt = date_format if callable(date_format) else (lambda d: d.isoformat())
        for (x, y), (when, value) in zip(coords, points, strict=True):
            parts.append(
                f'<circle cx="{_num(x)}" cy="{_num(y)}" r="4" fill="{PALETTE[0]}"/>'
                f'<text x="{_num(x)}" y="{_num(y - 8)}" font-size="11" text-anchor="middle" fill="#1b1f24">'
                f"{_num(value)}</text>"
                f'<text x="{_num(x)}" y="{height - 12}" font-size="11" text-anchor="middle" fill="#57606a">'
                f"{escape(str(fmt(when)))}</text>"
            )
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_svg(
    value: float | None, *, label: str, chart_id: str, width: int = 220, height: int = 14, color: str = PALETTE[0]
) -> Markup:
    """Draw one horizontal 0–100 bar (an empty track when the value is not scored)."""
    filled = 0 if value is None else width * max(0.0, min(100.0, value)) / 100
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{_attr(label)}" class="chart-bar" id="{_attr(chart_id)}">'
        f'<rect width="{width}" height="{height}" rx="3" fill="#eaeef2"/>'
        f'<rect width="{_num(filled)}" height="{height}" rx="3" fill="{color}"/></svg>'
    )


def strip_svg(
    histogram: Sequence[int],
    *,
    score: float | None,
    p50: float | None,
    p90: float | None,
    label: str,
    chart_id: str,
    width: int = 260,
    height: int = 44,
) -> Markup:
    """Draw a distribution strip: peer counts per 0–100 bin as bars, with the firm, the median and P90 marked."""
    top = max(histogram) if histogram and max(histogram) > 0 else 1
    bins = len(histogram) or 1
    bar_w = width / bins
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'role="img" aria-label="{_attr(label)}" class="chart-strip" id="{_attr(chart_id)}">'
    ]
    for i, count in enumerate(histogram):
        h = (height - 12) * count / top
        parts.append(
            f'<rect x="{_num(i * bar_w + 1)}" y="{_num(height - 12 - h)}" width="{_num(bar_w - 2)}" '
            f'height="{_num(h)}" fill="#d0d7de"/>'
        )
    for value, color, dash in ((p50, PALETTE[1], "3 2"), (p90, PALETTE[2], "3 2"), (score, PALETTE[0], "")):
        if value is None:
            continue
        x = width * max(0.0, min(100.0, value)) / 100
        dashed = f' stroke-dasharray="{dash}"' if dash else ""
        parts.append(
            f'<line x1="{_num(x)}" y1="0" x2="{_num(x)}" y2="{height - 12}" stroke="{color}" stroke-width="2.5"'
            f"{dashed}/>"
        )
    parts.append(
        f'<text x="0" y="{height - 1}" font-size="9" fill="#57606a">0</text>'
        f'<text x="{width}" y="{height - 1}" font-size="9" text-anchor="end" fill="#57606a">100</text></svg>'
    )
    return Markup("".join(parts))


def heatmap_svg(
    rows: Sequence[str],
    columns: Sequence[str],
    values: Sequence[Sequence[float | None]],
    texts: Sequence[Sequence[str]],
    *,
    title: str,
    desc: str,
    chart_id: str = "heatmap",
    cell_w: int = 86,
    cell_h: int = 30,
) -> Markup:
    """Draw a grid of 0–100 values as shaded cells with their text; None (suppressed or empty) stays grey."""
    left, top = 96, 40
    width, height = left + cell_w * len(columns) + 8, top + cell_h * len(rows) + 8
    parts = _open(width, height, title, desc, chart_id)
    for j, col in enumerate(columns):
        x = left + j * cell_w + cell_w / 2
        parts.append(
            f'<text x="{_num(x)}" y="{top - 10}" font-size="11" text-anchor="middle" fill="#1b1f24">'
            f"{escape(col)}</text>"
        )
    for i, row in enumerate(rows):
        y = top + i * cell_h
        parts.append(
            f'<text x="{left - 6}" y="{_num(y + cell_h / 2 + 4)}" font-size="11" text-anchor="end" '
            f'fill="#1b1f24">{escape(row)}</text>'
        )
        for j in range(len(columns)):
            value = values[i][j]
            if value is None:
                fill, ink = "#eaeef2", "#57606a"
            else:
                # light to dark blue as the score rises; white text on the dark half
                shade = max(0.0, min(1.0, value / 100))
                r, g, b = (int(235 - 204 * shade), int(243 - 132 * shade), int(255 - 20 * shade))
                fill, ink = f"#{r:02x}{g:02x}{b:02x}", "#ffffff" if shade > 0.55 else "#1b1f24"
            x = left + j * cell_w
            parts.append(
                f'<rect x="{x + 1}" y="{_num(y + 1)}" width="{cell_w - 2}" height="{cell_h - 2}" fill="{fill}"/>'
                f'<text x="{_num(x + cell_w / 2)}" y="{_num(y + cell_h / 2 + 4)}" font-size="11" text-anchor="middle" '
                f'fill="{ink}">{escape(texts[i][j])}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))
