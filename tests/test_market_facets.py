"""Attribute and MOQ facets: correct disjunctive counts, filters that combine (OR within a facet, AND across),
and URLs that survive unknown values."""

from __future__ import annotations

import re

import pytest

from saas.core.extensions import db
from saas.marketplace.catalog import default_catalog
from saas.marketplace.search import SearchParams, number_ranges, search

CREPE = "silk/silk-fabric/crepe-de-chine"


@pytest.fixture()
def silk(create_firm, publish_product):
    """Five crêpe products: (momme, fibres, width, moq)."""
    firm = create_firm(county="tongxiang")
    rows = [
        ("16", ["mulberry-silk"], "114", "50"),
        ("19", ["mulberry-silk"], "114", "100"),
        ("22", ["mulberry-silk", "spandex"], "140", "600"),
        ("22", ["mulberry-silk"], "140", "1200"),
        ("30", ["mulberry-silk", "spandex"], "150", "6000"),
    ]
    for i, (momme, fibres, width, moq) in enumerate(rows):
        publish_product(
            firm,
            f"{momme}姆米真丝双绉{i}",
            CREPE,
            {"momme": momme, "fibre_composition": fibres, "fabric_width": width},
            moq=moq,
            tiers=[(moq, "80")],
        )
    return firm


def _run(app, **kw):
    with app.test_request_context():
        return search(db.session, SearchParams(category=CREPE, **kw), 20, "zh")


def _counts(result, facet_id):
    facet = next(f for f in result.attribute_facets if f.id == facet_id)
    return {v.value: v.count for v in facet.values}


def test_attribute_facets_count_every_option_and_range(app, silk):
    result = _run(app)
    assert result.total == 5
    assert _counts(result, "fibre_composition") == {"mulberry-silk": 5, "spandex": 2}
    assert _counts(result, "momme") == {"16-19": 1, "19-22": 1, "22-30": 2, "30-": 1}
    assert {f.value: f.count for f in result.facets["moq"]} == {
        "-100": 1,
        "100-500": 1,
        "500-1000": 1,
        "1000-5000": 1,
        "5000-": 1,
    }


def test_a_chosen_facet_keeps_its_alternatives_and_narrows_the_others(app, silk):
    result = _run(app, attrs=(("fibre_composition", ("spandex",)),))
    assert result.total == 2
    assert _counts(result, "fibre_composition") == {"mulberry-silk": 5, "spandex": 2}  # its own choice not applied
    assert _counts(result, "momme") == {"22-30": 1, "30-": 1}
    assert {f.value for f in result.facets["moq"]} == {"500-1000", "5000-"}
    # OR within one facet, AND across facets
    both = _run(app, attrs=(("momme", ("16-19", "30-")),))
    assert both.total == 2
    narrowed = _run(app, attrs=(("momme", ("16-19", "30-")),), moq=("5000-",))
    assert narrowed.total == 1 and narrowed.products[0].title_zh.startswith("30姆米")
    assert {f.value: f.count for f in narrowed.facets["moq"]} == {"-100": 1, "5000-": 1}


def test_number_ranges_come_from_the_template_buckets():
    momme = default_catalog().attribute(CREPE, "momme")
    values = [r[0] for r in number_ranges(momme)]
    assert values[0].startswith("-") and values[-1].endswith("-") and len(values) == len(momme.buckets) + 1


def test_search_page_links_toggle_values_and_ignore_unknown_ones(client, silk):
    html = client.get(f"/market/search?category={CREPE}&a.fibre_composition=spandex&a.momme=bogus&moq=x").get_data(
        as_text=True
    )
    assert re.search(r'id="result-count">[^<]*2', html)
    block = re.search(r'id="facet-attr-fibre_composition">(.*?)</ul>', html, re.S).group(1)
    selected = re.search(r'<a href="([^"]+)" data-value="spandex" aria-current="true"', block).group(1)
    assert "a.fibre_composition" not in selected  # clicking a chosen value removes it
    other = re.search(r'<a href="([^"]+)" data-value="mulberry-silk"', block).group(1)
    assert other.count("a.fibre_composition=") == 2  # adding keeps the first choice (OR)
    form = re.search(r'id="search-form">(.*?)</form>', html, re.S).group(1)
    assert 'name="a.fibre_composition" value="spandex"' in form and "bogus" not in form  # unknown values dropped
    # without a category there are no attribute facets, only a hint
    plain = client.get("/market/search?q=真丝").get_data(as_text=True)
    assert "facet-attr-" not in plain and 'id="facet-moq"' in plain


def test_number_attributes_without_buckets_are_not_facets(app, create_firm, publish_product):
    from saas.marketplace.search import filterable

    catalog = default_catalog()
    slug = next(
        c.slug
        for c in catalog.leaves()
        if any(a.type == "number" and a.filterable and not a.buckets for a in catalog.attributes_for(c.slug))
    )
    offered = filterable(SearchParams(category=slug))
    assert all(a.buckets for a in offered if a.type == "number")
    with app.test_request_context():
        result = search(db.session, SearchParams(category=slug), 20, "zh")  # used to fail: CASE with no branch
    assert result.total == 0


def test_a_narrow_search_reads_only_its_candidates_and_counts_the_same(app, silk, monkeypatch):
    from saas.marketplace import search as search_module

    built = []
    real = search_module._AttributeTable.build

    def spy(cls, dbs, snap, attributes, category, slots):
        built.append("candidates" if slots is not None else "category")
        return real(dbs, snap, attributes, category, slots)

    monkeypatch.setattr(search_module._AttributeTable, "build", classmethod(spy))
    narrow = _run(app, q="30姆米")  # one hit of five: its attributes alone are read
    assert narrow.total == 1 and built == ["candidates"]
    expected = {"fibre_composition": {"mulberry-silk": 1, "spandex": 1}, "momme": {"30-": 1}}
    assert {k: _counts(narrow, k) for k in expected} == expected
    assert _run(app, q="30姆米", attrs=(("fibre_composition", ("spandex",)),)).total == 1
    assert _run(app, q="30姆米", attrs=(("fibre_composition", ("nylon",)),)).total == 0
    assert _run(app).total == 5 and built[-1] == "category"  # browsing builds (and keeps) the whole category's table
    calls = len(built)
    again = _run(app, q="30姆米")
    assert len(built) == calls and {k: _counts(again, k) for k in expected} == expected
