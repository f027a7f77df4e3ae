"""Peer benchmarking in the app: cohort statistics refreshed on submission, the firm's position, privacy."""

from __future__ import annotations

import re

from sqlalchemy import select

import scoring
from saas.core.tenancy import set_staff_scope
from saas.models import CohortStatsRow, ScoreSnapshot
from tests.conftest import app_session


def _peers(create_firm, quick_submission, n, industry="silk", county="tongxiang"):
    firms = []
    for i in range(n):
        firm = create_firm(name=f"桐乡同行{i:02d}丝绸有限公司", county=county, industry=industry)
        quick_submission(firm, level=0.1 + 0.8 * i / max(1, n - 1), seed=i)
        firms.append(firm)
    return firms


def _composites(app, firms):
    values = {}
    for firm in firms:
        with app_session(app, firm.id) as s:
            values[firm.id] = s.scalar(select(ScoreSnapshot.composite))
    return values


def test_firm_sees_its_percentile_in_a_labelled_cohort_and_no_other_firm(app, client, create_firm, quick_submission):
    firms = _peers(create_firm, quick_submission, 12)
    me = firms[5]
    composites = _composites(app, firms)
    client.login(me.owner_email)
    response = client.get("/benchmarking/")
    assert response.status_code == 302
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    # the cohort used and its n are shown; 12 silk firms of one county and size class form a sufficient cohort
    label = re.search(r'id="cohort-label">([^<]*)<', html).group(1)
    assert "n = 12" in label and "茧丝绸" in label
    # the percentile rank is 100·(below + ½·equal)/n over the peers' composites, the firm included
    values = sorted(composites.values())
    mine = composites[me.id]
    expected = 100 * (sum(v < mine for v in values) + 0.5 * sum(v == mine for v in values)) / len(values)
    shown = re.search(r'id="overall-percentile">([^<]*)<', html).group(1)
    assert shown == f"{expected:.0f}"
    assert 'id="bench-radar-card"' in html and html.count('class="chart-strip"') >= 9
    for other in firms:
        if other.id != me.id:
            assert other.name not in html


def test_small_cohorts_fall_back_and_tiny_cities_show_nothing(app, client, create_firm, quick_submission):
    firms = _peers(create_firm, quick_submission, 4)
    client.login(firms[0].owner_email)
    location = client.get("/benchmarking/").headers["Location"]
    html = client.get(location).get_data(as_text=True)
    assert "n = 4" in html and 'id="overall-percentile"' not in html
    assert "目前参评企业少于 10 家，暂不显示同行企业数据。" in html  # the minimum cohort size, named


def test_refresh_is_incremental(app, create_firm, quick_submission):
    _peers(create_firm, quick_submission, 3, industry="silk")
    wood = create_firm(name="嘉善木业样本有限公司", county="jiashan", industry="wood")
    quick_submission(wood, level=0.5)
    with app_session(app) as s:
        before = {r.cohort_id: r.version for r in s.scalars(select(CohortStatsRow))}
    silk = create_firm(name="桐乡新增丝绸有限公司", county="tongxiang", industry="silk")
    quick_submission(silk, level=0.7)
    with app_session(app) as s:
        after = {r.cohort_id: (r.version, r.n) for r in s.scalars(select(CohortStatsRow))}
    wood_rows = [cid for cid in before if "|wood" in cid]
    assert wood_rows and all(after[cid][0] == before[cid] for cid in wood_rows)  # untouched
    assert after["city"][0] > before["city"] and after["city"][1] == 5
    assert after["industry|silk"][1] == 4


def test_cohort_rows_match_the_engine_over_the_same_peers(app, create_firm, quick_submission):
    firms = _peers(create_firm, quick_submission, 11)
    composites = sorted(_composites(app, firms).values())
    with app_session(app) as s:
        set_staff_scope(s, "*")
        row = s.scalar(select(CohortStatsRow).where(CohortStatsRow.cohort_id == "industry|silk"))
        stats = scoring.CohortStats.from_dict(row.data)
    assert row.n == 11 and row.sufficient
    assert stats.metrics["composite"].quantiles["p50"] == scoring.quantile(composites, 50)
    assert stats.metrics["composite"].quantiles["p90"] == scoring.quantile(composites, 90)
