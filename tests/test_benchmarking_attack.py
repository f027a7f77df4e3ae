"""The attack on firm-facing benchmarking: recover small peer groups' score bins by differencing reports.

Firms in one industry sit in nested cohorts (docs/suppression.md §8): silk × Tongxiang × small has 10 firms, silk ×
Tongxiang 12, silk × small 13, silk 15, the city 27. One firm of each group logs in and keeps everything its report
prints, on the web page and in the PDF's HTML (the same context WeasyPrint renders): the cohort label and n, and
every distribution strip, whose bar heights give the per-bin counts (n is printed, so heights ÷ their sum × n). Then
a newcomer submits in silk × Tongxiang × small and every firm looks again.

Each printed count is an equation over the unknown atoms: group × 10-point bin, per metric, the newcomer a group of
its own that only the second look includes. The four firms collude (more equations never recover less, so this
covers every single firm and every pair). Targets: every bin of 1–4 firms of every group and of every cohort, and
the newcomer's bin. A target is recovered when its vector lies in the span of the printed ones
(``tests/differencing.py``, independent of the product). None may be.
"""

from __future__ import annotations

import random
import re
from itertools import product
from typing import Any

import numpy as np
from sqlalchemy import select

from tests.conftest import app_session
from tests.differencing import System

K, BINS = 5, 10
# (industry, county, size class, firms); the newcomer joins group 0 but is kept as group 4
GROUPS = (("silk", "tongxiang", "small", 10), ("silk", "tongxiang", "medium", 2))
GROUPS += (("silk", "haining", "small", 3), ("wood", "nanhu", "small", 12))
NEWCOMER = 4
LEVELS = {
    "industry+county+size": ("industry", "county", "size"),
    "industry+county": ("industry", "county"),
    "industry+size": ("industry", "size"),
    "industry": ("industry",),
    "city": (),
}


def _members(attrs: tuple[str, str, str], level: str, *, after: bool) -> tuple[int, ...]:
    """Return the groups of the cohort at ``level`` of a firm with ``attrs`` (the newcomer only ``after``)."""
    names = ("industry", "county", "size")
    everyone = [g[:3] for g in GROUPS] + ([GROUPS[0][:3]] if after else [])
    return tuple(
        i for i, g in enumerate(everyone) if all(g[names.index(a)] == attrs[names.index(a)] for a in LEVELS[level])
    )


def _seed(app: Any, create_firm: Any, quick_submission: Any, rng: random.Random) -> dict[int, list[Any]]:
    from saas.models import Firm

    firms: dict[int, list[Any]] = {}
    for g, (industry, county, size, count) in enumerate(GROUPS):
        for _ in range(count):
            firms.setdefault(g, []).append(_submit(app, create_firm, quick_submission, rng, industry, county, size))
    with app_session(app) as s:
        assert {s.get(Firm, f.id).size_class for f in firms[0]} == {"small"}
    return firms


def _submit(app, create_firm, quick_submission, rng, industry, county, size):  # type: ignore[no-untyped-def]
    from saas.models import Firm

    firm = create_firm(county=county, industry=industry)
    with app_session(app, firm.id) as s:
        s.get(Firm, firm.id).size_class = size
    firm.assessment_id = quick_submission(firm, level=rng.uniform(0.05, 0.95), seed=rng.randint(0, 10**6))
    return firm


def _truth(app: Any, firms: dict[int, list[Any]]) -> tuple[dict[tuple[int, str, int], int], list[str]]:
    """Return {(group, metric, bin): firms} from the stored snapshots, binned here, and the metrics printed."""
    from saas.assessments.instruments import active_instrument
    from saas.benchmarking.services import maturity_dimensions
    from saas.models import ScoreSnapshot

    with app_session(app) as s:
        dims = maturity_dimensions(active_instrument(s))
    metrics = ["composite", *dims]
    counts: dict[tuple[int, str, int], int] = {}
    for g, handles in firms.items():
        for firm in handles:
            with app_session(app, firm.id) as s:
                snap = s.scalars(select(ScoreSnapshot).order_by(ScoreSnapshot.created_at.desc())).first()
                values = {"composite": snap.composite, **snap.dimension_scores}
            for m in metrics:
                assert values[m] is not None  # every metric scored: each strip counts the cohort's n firms
                b = min(BINS - 1, int((values[m] + 1e-9) // (100 / BINS)))
                counts[(g, m, b)] = counts.get((g, m, b), 0) + 1
    return counts, metrics


# --- what a firm sees ------------------------------------------------------------------------------------------------


def _labels(app: Any, attrs: tuple[str, str, str]) -> dict[str, str]:
    """Return {level: printed label} of a firm's five cohorts, from the reference names (zh, the default)."""
    from saas.reference import COUNTIES, INDUSTRIES, SIZE_CLASSES

    with app.test_request_context():
        names = {"industry": INDUSTRIES[attrs[0]], "county": COUNTIES[attrs[1]], "size": SIZE_CLASSES[attrs[2]]}
        return {level: " · ".join(str(names[a]) for a in parts) for level, parts in LEVELS.items() if parts}


def _read(html: str, cohort: str, labels: dict[str, str]) -> tuple[str, int, dict[str, list[float]]]:
    """Return the level of the printed cohort, its n and {metric: bar heights} of every strip of ``html``."""
    label, n = re.search(cohort, html).groups()
    matches = [level for level, text in labels.items() if text in label]
    level = max(matches, key=lambda lv: len(labels[lv])) if matches else "city"
    strips = {
        m: [float(h) for h in re.findall(r'<rect [^>]*height="([\d.]+)" fill="#d0d7de"', body)]
        for m, body in re.findall(r'<svg[^>]*class="chart-strip" id="strip-([^"]+)">(.*?)</svg>', html, re.S)
    }
    return level, int(n), strips


def _pdf_html(app: Any, firm: Any) -> str:
    """Return the HTML that the firm's PDF report is rendered from (same steps as saas.reports.services._render)."""
    from flask import render_template

    from saas.assessments import services as assessments
    from saas.benchmarking import report
    from saas.core.pdf import report_context
    from saas.models import Firm

    with app_session(app, firm.id) as s:
        f = s.get(Firm, firm.id)
        assessment = assessments.get_assessment(s, f, firm.assessment_id)
        snapshot = assessments.latest_snapshot(s, f, assessment)
        instrument = assessments.engine_instrument(assessment.instrument_version)
        context = report.build(s, f, assessment, instrument, snapshot)
        pdf_context = report_context(context, firm_name=f.name, benchmark=context["benchmark"])
        return render_template("pdf/firm_report.html", **pdf_context)


def _look(app: Any, make_client: Any, viewers: dict[int, Any]) -> list[tuple[int, str, int, dict[str, list[float]]]]:
    """Return (viewer group, level, n, strips) of each viewer's web page and PDF."""
    seen = []
    for g, firm in viewers.items():
        labels = _labels(app, GROUPS[g][:3])
        client = make_client()
        client.login(firm.owner_email)
        page = client.get(f"/benchmarking/{firm.assessment_id}")
        assert page.status_code == 200
        page_re = r'id="cohort-label">([^<]*[（(]n = (\d+)[）)])'
        seen.append((g, *_read(page.get_data(as_text=True), page_re, labels)))
        seen.append((g, *_read(_pdf_html(app, firm), r"<dd>([^<]*[（(]n = (\d+)[）)])", labels)))
    return seen


# --- the attack ------------------------------------------------------------------------------------------------------


def _attack(
    looks: list[tuple[bool, int, str, int, dict[str, list[float]]]],
    metrics: list[str],
    targets: dict[tuple[str, tuple[int, ...], int], np.ndarray],
) -> set[tuple[str, tuple[int, ...], int]]:
    """Return the targets that the printed counts (and every printed n) determine exactly."""
    systems = {m: System(len(GROUPS) * BINS + BINS) for m in metrics}  # atoms: (group 0–4) × bin
    for after, g, level, n, strips in looks:
        members = _members(GROUPS[g][:3], level, after=after)
        for m in metrics:
            systems[m].publish(_atoms(members, range(BINS)), n)
            heights = strips.get(m, [])
            if heights and sum(heights) > 0:
                assert len(heights) == BINS
                for b, h in enumerate(heights):
                    systems[m].publish(_atoms(members, [b]), round(h / sum(heights) * n))
    found = set()
    for m in metrics:
        wanted = {key: v for key, v in targets.items() if key[0] == m}
        found |= systems[m].recoverable(wanted)
    return found


def _atoms(groups: tuple[int, ...], bins: Any) -> np.ndarray:
    v = np.zeros((len(GROUPS) + 1, BINS))
    v[np.ix_(list(groups), list(bins))] = 1
    return v.ravel()


def _targets(counts: dict[tuple[int, str, int], int], metrics: list[str]) -> dict[tuple, np.ndarray]:
    """Every bin of 1–4 firms of a group, of a cohort (before and after), and the newcomer's bin."""
    unions = {(g,) for g in range(len(GROUPS) + 1)}
    for g, level, after in product(range(len(GROUPS)), LEVELS, (False, True)):
        unions.add(_members(GROUPS[g][:3], level, after=after))
    out = {}
    for m, union, b in product(metrics, unions, range(BINS)):
        if 0 < sum(counts.get((g, m, b), 0) for g in union) < K:
            out[(m, union, b)] = _atoms(union, [b])
    return out


def test_no_small_bin_can_be_recovered_from_firm_reports(app, make_client, create_firm, quick_submission):
    rng = random.Random(20261202)
    firms = _seed(app, create_firm, quick_submission, rng)
    viewers = {g: handles[0] for g, handles in firms.items()}
    looks = [(False, *seen) for seen in _look(app, make_client, viewers)]
    newcomer = _submit(app, create_firm, quick_submission, rng, *GROUPS[0][:3])
    firms[NEWCOMER] = [newcomer]
    looks += [(True, *seen) for seen in _look(app, make_client, viewers)]
    counts, metrics = _truth(app, firms)
    targets = _targets(counts, metrics)
    newcomer_bins = {key for key in targets if key[1] == (NEWCOMER,)}
    assert len(newcomer_bins) == len(metrics) and len(targets) > 100  # small bins exist in every metric

    # the attack has teeth: had each firm been shown its first sufficient cohort with its histogram (the report
    # before this change), the same attack would recover small bins of the 2- and 3-firm groups and the newcomer's
    old = []
    for after, g, _level, _n, _strips in looks:
        for level in LEVELS:
            members = _members(GROUPS[g][:3], level, after=after)
            size = sum(GROUPS[i][3] if i < len(GROUPS) else 1 for i in members)
            if size >= 10:
                break
        strips = {m: [sum(counts.get((i, m, b), 0) for i in members) for b in range(BINS)] for m in metrics}
        old.append((after, g, level, size, strips))
    recovered = _attack(old, metrics, targets)
    assert newcomer_bins <= recovered and any(key[1] in ((1,), (2,)) for key in recovered)

    # against what the platform printed, on the page and in the PDF, it recovers nothing
    recovered = _attack(looks, metrics, targets)
    assert recovered == set(), (len(recovered), sorted(recovered)[:10])

    # every firm sees a cohort that no nested sufficient cohort comes within 5 firms of: here silk (15, then 16)
    for after, g, level, n, _strips in looks:
        assert (level, n) == (("industry", 15 + after) if g < 3 else ("industry+county+size", 12)), (g, level, n)


def test_a_firm_is_told_why_it_sees_the_wider_cohort(app, client, create_firm, quick_submission):
    rng = random.Random(7)
    firms = [_submit(app, create_firm, quick_submission, rng, "silk", "tongxiang", "small") for _ in range(10)]
    others = [_submit(app, create_firm, quick_submission, rng, "silk", "tongxiang", "medium") for _ in range(2)]
    client.login(firms[0].owner_email)
    html = client.get(f"/benchmarking/{firms[0].assessment_id}").get_data(as_text=True)
    # silk × Tongxiang × small (10) and silk × Tongxiang (12) differ by 2 firms: the wider one is printed, with why
    assert re.search(r'id="cohort-label">[^<]*n = (\d+)', html).group(1) == "12" and 'id="cohort-widened"' in html
    for _ in range(3):
        others.append(_submit(app, create_firm, quick_submission, rng, "silk", "tongxiang", "medium"))
    html = client.get(f"/benchmarking/{firms[0].assessment_id}").get_data(as_text=True)
    # now they differ by 5: the firm's own cohort is printed again
    assert re.search(r'id="cohort-label">[^<]*n = (\d+)', html).group(1) == "10" and 'id="cohort-widened"' not in html
