"""The marketplace catalogue: the shipped YAML loads, trees are sound, templates inherit, bad files are refused."""

from __future__ import annotations

import dataclasses
import re
import textwrap
from pathlib import Path

import pytest

from saas.marketplace.catalog import (
    CATALOG_DIR,
    SLUG_RE,
    CatalogError,
    UnknownCategory,
    default_catalog,
    load_catalog,
)

INDUSTRIES = ["silk", "warp_knitting", "textile", "garment", "leather", "luggage", "wood"]
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def catalog():
    return default_catalog()


def test_the_shipped_catalogue_loads_with_every_industry_in_order(catalog):
    assert [industry.id for industry in catalog.industries] == INDUSTRIES
    assert catalog.industry("warp-knitting") is catalog.industry("warp_knitting")
    assert catalog.industry("silk").label.zh == "茧丝绸"
    assert default_catalog() is catalog  # loaded once per process
    assert len(load_catalog(CATALOG_DIR)) == len(catalog)


@pytest.mark.parametrize("industry", INDUSTRIES)
def test_every_industry_has_a_real_tree(catalog, industry):
    categories = catalog.categories(industry)
    leaves = catalog.leaves(industry)
    assert len(leaves) >= 8
    assert 2 <= max(cat.depth for cat in categories) <= 3
    assert catalog.roots(industry) and all(cat.depth == 1 for cat in catalog.roots(industry))
    for cat in categories:
        assert CJK.search(cat.label.zh), cat.slug
        assert cat.label.en.isascii() or "é" in cat.label.en, cat.slug
        assert cat.slug.startswith(catalog.industry(industry).slug + "/")
        if cat.parent:  # tree order: a parent comes before its children
            assert categories.index(catalog.category(cat.parent)) < categories.index(cat)
    for leaf in leaves:
        assert leaf.attributes, leaf.slug
        assert catalog.sale_units_for(leaf.slug), leaf.slug


def test_slugs_are_unique_readable_paths(catalog):
    slugs = [cat.slug for cat in catalog]
    assert len(slugs) == len(set(slugs)) > 100
    for slug in slugs:
        first, *rest = slug.split("/")
        assert first in {industry.slug for industry in catalog.industries}
        assert 1 <= len(rest) <= 3 and all(SLUG_RE.match(part) for part in rest), slug
    assert catalog.category("silk/silk-fabric/crepe-de-chine").label.zh == "双绉"


def test_templates_inherit_from_the_industry_and_every_ancestor(catalog):
    mesh = catalog.category("warp-knitting/fabrics/apparel/mesh")
    ids = [attr.id for attr in catalog.attributes_for(mesh.slug)]
    # industry first, then 经编面料, then 服装面料; the leaf itself adds nothing
    assert ids[:3] == ["fibre_composition", "composition_detail", "colour_family"]
    assert ids.index("knit_gauge") < ids.index("stretch")
    assert mesh.own_attributes == ()
    by_id = {attr.id: attr for attr in mesh.attributes}
    assert by_id["fibre_composition"].defined_in == "warp_knitting"
    assert by_id["knit_gauge"].defined_in == "warp-knitting/fabrics"
    assert by_id["stretch"].defined_in == "warp-knitting/fabrics/apparel"
    assert by_id["knit_gauge"].min == 6 and by_id["knit_gauge"].max == 50  # the override of the shared definition
    assert catalog.shared_attributes["knit_gauge"].min == 1.5
    # siblings do not see each other's attributes
    assert catalog.attribute("warp-knitting/fabrics/home/velboa", "stretch") is None
    assert catalog.attribute("warp-knitting/fabrics/home/velboa", "pile_height") is not None


def test_breadcrumb_and_lookups(catalog):
    path = catalog.path("textile/home/home-products/bedding-sets")
    assert [cat.label.zh for cat in path] == ["家纺", "家纺成品", "床品套件"]
    assert path[0].parent is None and path[-1].is_leaf
    assert catalog.children("textile/home")[0].segment == "decor-fabrics"
    assert catalog.get("silk/silk-fabric/") is catalog.category("silk/silk-fabric")
    assert catalog.get("silk/nope") is None
    with pytest.raises(UnknownCategory):
        catalog.category("silk/nope")
    with pytest.raises(KeyError):
        catalog.attributes_for("nope")


def test_filterable_attributes_are_facets(catalog):
    facets = catalog.filterable_attributes("leather/materials/genuine/bag-leather")
    ids = [attr.id for attr in facets]
    assert {"leather_type", "thickness", "animal", "colour_family"} <= set(ids)
    assert "hide_area" not in ids
    for cat in catalog:
        for attr in cat.attributes:
            if attr.type == "text":
                assert not attr.filterable


@pytest.mark.parametrize(
    ("slug", "attribute", "kind", "unit_or_options"),
    [
        ("silk/silk-fabric/habotai", "momme", "number", "momme"),
        ("silk/silk-fabric/habotai", "fabric_width", "number", "cm"),
        ("textile/woven/synthetic/chiffon", "fabric_weight", "number", "gsm"),
        ("textile/woven/synthetic/chiffon", "fibre_composition", "multi_enum", {"polyester", "mulberry-silk"}),
        ("warp-knitting/fabrics/technical/spacer", "knit_gauge", "number", "gauge"),
        ("garment/knitwear/cashmere-sweaters", "knit_gauge", "number", "gauge"),
        ("leather/materials/synthetic/pu-leather", "leather_type", "enum", {"top-grain", "split", "pu"}),
        ("leather/materials/genuine/shoe-upper", "thickness", "number", "mm"),
        ("luggage/trolley-cases/hard-shell", "shell_material", "enum", {"pc", "abs", "aluminium-magnesium", "oxford"}),
        ("luggage/trolley-cases/hard-shell", "size", "number", "inch"),
        ("wood/panels/plywood", "wood_species", "enum", {"poplar", "eucalyptus"}),
        ("wood/panels/plywood", "formaldehyde_class", "enum", {"e0", "e1", "enf"}),
    ],
)
def test_the_examples_named_in_the_issue_exist(catalog, slug, attribute, kind, unit_or_options):
    attr = catalog.attribute(slug, attribute)
    assert attr is not None and attr.type == kind and attr.filterable
    if kind == "number":
        assert attr.unit is not None and attr.unit.id == unit_or_options
        assert attr.min < attr.max
    else:
        assert unit_or_options <= {option.id for option in attr.options}


def test_labels_and_units_are_bilingual(catalog):
    assert catalog.attribute("silk/silk-fabric/habotai", "momme").label.zh == "姆米"
    assert catalog.attribute("wood/panels/mdf", "formaldehyde_class").label.get("en").startswith("Formaldehyde")
    zh_units = {unit.label.zh for unit in catalog.sale_units}
    assert {"米", "码", "公斤", "件", "条", "张", "平方米", "立方米", "套", "只"} <= zh_units
    assert catalog.sale_unit("m").decimals == 1 and catalog.sale_unit("piece").decimals == 0
    assert [unit.id for unit in catalog.sale_units_for("silk/silk-fabric/habotai")] == ["m", "yd", "kg"]
    assert [unit.id for unit in catalog.sale_units_for("wood/products/flooring")] == ["m2"]


def test_the_model_is_read_only(catalog):
    cat = catalog.category("silk/silk-fabric/habotai")
    with pytest.raises(dataclasses.FrozenInstanceError):
        cat.slug = "x"  # type: ignore[misc]
    with pytest.raises(TypeError):
        catalog.by_slug["x"] = cat  # type: ignore[index]


# --- broken catalogues -----------------------------------------------------------------------------------------------

SHARED = """\
industries: [demo]
units:
  cm: {zh: 厘米, en: cm}
sale_units:
  - {id: m, zh: 米, en: metre, decimals: 1}
attributes:
  colour:
    type: enum
    zh: 颜色
    en: Colour
    options:
      - {id: red, zh: 红色, en: Red}
      - {id: blue, zh: 蓝色, en: Blue}
"""

GOOD = """\
zh: 示例
en: Demo
sale_units: [m]
attributes:
  - use: colour
categories:
  - slug: fabric
    zh: 面料
    en: Fabric
    attributes:
      - {id: width, type: number, zh: 门幅, en: Width, unit: cm, min: 50, max: 300}
    children:
      - {slug: plain, zh: 平纹布, en: Plain weave}
      - {slug: twill, zh: 斜纹布, en: Twill}
"""


def write_catalog(tmp_path: Path, demo: str, shared: str = SHARED) -> Path:
    (tmp_path / "_shared.yaml").write_text(textwrap.dedent(shared), "utf-8")
    (tmp_path / "demo.yaml").write_text(textwrap.dedent(demo), "utf-8")
    return tmp_path


def problems_of(directory: Path):
    with pytest.raises(CatalogError) as info:
        load_catalog(directory)
    return info.value.problems, str(info.value)


def test_a_minimal_catalogue_loads(tmp_path):
    catalog = load_catalog(write_catalog(tmp_path, GOOD))
    assert [cat.slug for cat in catalog] == ["demo/fabric", "demo/fabric/plain", "demo/fabric/twill"]
    assert [attr.id for attr in catalog.attributes_for("demo/fabric/twill")] == ["colour", "width"]


BROKEN = [
    ("syntax", GOOD.replace("sale_units: [m]", "sale_units: [m"), "", "invalid YAML"),
    ("duplicate key", GOOD.replace("en: Demo\n", "en: Demo\nen: Again\n"), "", "duplicate key 'en'"),
    (
        "duplicate slug",
        GOOD.replace("slug: twill", "slug: plain"),
        "categories[fabric].children[plain].slug",
        "duplicate slug 'plain'",
    ),
    (
        "bad slug",
        GOOD.replace("slug: twill", "slug: Twill Weave"),
        "categories[fabric].children[Twill Weave].slug",
        "lower-case",
    ),
    (
        "unknown type",
        GOOD.replace("type: number", "type: float"),
        "categories[fabric].attributes[width].type",
        "must be one of number, enum, multi_enum, text",
    ),
    (
        "min above max",
        GOOD.replace("min: 50, max: 300", "min: 300, max: 50"),
        "categories[fabric].attributes[width].max",
        "must be greater than min (300)",
    ),
    (
        "number without bounds",
        GOOD.replace(", min: 50, max: 300", ""),
        "categories[fabric].attributes[width]",
        "needs min and max",
    ),
    (
        "unknown unit",
        GOOD.replace("unit: cm", "unit: furlong"),
        "categories[fabric].attributes[width].unit",
        "unknown unit 'furlong'",
    ),
    (
        "typo in a key",
        GOOD.replace("unit: cm,", "unit: cm, filterabel: true,"),
        "categories[fabric].attributes[width].filterabel",
        "unknown key",
    ),
    (
        "enum without options",
        GOOD.replace(
            "{id: width, type: number, zh: 门幅, en: Width, unit: cm, min: 50, max: 300}",
            "{id: w, type: enum, zh: 门幅, en: W}",
        ),
        "categories[fabric].attributes[w].options",
        "non-empty list of options",
    ),
    (
        "redefined inherited attribute",
        GOOD.replace(
            "{slug: twill, zh: 斜纹布, en: Twill}", "{slug: twill, zh: 斜纹布, en: Twill, attributes: [{use: colour}]}"
        ),
        "categories[fabric].children[twill].attributes[colour]",
        "already defined by demo",
    ),
    (
        "filterable text",
        GOOD.replace(
            "type: number, zh: 门幅, en: Width, unit: cm, min: 50, max: 300",
            "type: text, zh: 门幅, en: Width, max_length: 9, filterable: true",
        ),
        "categories[fabric].attributes[width].filterable",
        "cannot be a facet",
    ),
    (
        "too deep",
        GOOD.replace(
            "{slug: twill, zh: 斜纹布, en: Twill}",
            "{slug: twill, zh: 斜纹布, en: Twill, children: [{slug: a, zh: 甲, en: A, "
            "children: [{slug: b, zh: 乙, en: B}]}]}",
        ),
        "categories[fabric].children[twill].children[a].children[b]",
        "at most 3 levels",
    ),
    ("unknown shared attribute", GOOD.replace("use: colour", "use: color"), "attributes[color].use", "unknown shared"),
    (
        "override of the type",
        GOOD.replace("  - use: colour", "  - {use: colour, type: text}"),
        "attributes[colour].type",
        "cannot be overridden",
    ),
    (
        "unknown sale unit",
        GOOD.replace("sale_units: [m]", "sale_units: [m, bale]"),
        "sale_units",
        "unknown sale unit 'bale'",
    ),
    ("missing label", GOOD.replace("    zh: 面料\n", ""), "categories[fabric]", "missing required key 'zh'"),
    (
        "YAML booleans as option ids",
        GOOD.replace(
            "min: 50, max: 300}",
            "min: 50, max: 300}\n      - {id: ok, type: enum, zh: 是否, en: OK, options: [{id: yes, zh: 是, en: Y}]}",
        ),
        "categories[fabric].attributes[ok].options[0].id",
        "option ids are",
    ),
]


@pytest.mark.parametrize(("demo", "path", "reason"), [case[1:] for case in BROKEN], ids=[case[0] for case in BROKEN])
def test_a_broken_file_is_refused_with_file_path_and_reason(tmp_path, demo, path, reason):
    problems, message = problems_of(write_catalog(tmp_path, demo))
    matching = [p for p in problems if p.file == "demo.yaml" and p.path == path and reason in p.reason]
    assert matching, problems
    assert matching[0].line is not None and matching[0].line >= 1
    assert f"demo.yaml:{matching[0].line}: {path or '(file)'}: " in message


def test_conflicting_option_labels_are_refused(tmp_path):
    shared = SHARED.replace("{id: blue, zh: 蓝色, en: Blue}", "{id: blue, zh: 蓝色, en: red}")
    problems, _ = problems_of(write_catalog(tmp_path, GOOD, shared))
    assert [(p.file, p.path) for p in problems] == [("_shared.yaml", "attributes[colour].options[blue]")]
    assert "also names option 'red'" in problems[0].reason  # and no cascade of errors where colour is used


def test_multi_enum_labels_may_not_contain_separators(tmp_path):
    shared = SHARED.replace("type: enum", "type: multi_enum").replace("en: Blue}", "en: Blue/navy}")
    problems, _ = problems_of(write_catalog(tmp_path, GOOD, shared))
    assert any("choice separator" in p.reason for p in problems)


def test_every_problem_is_reported_at_once(tmp_path):
    demo = GOOD.replace("slug: twill", "slug: Twill").replace("unit: cm", "unit: inch").replace("en: Demo", "en: ''")
    problems, message = problems_of(write_catalog(tmp_path, demo))
    assert len(problems) >= 3
    assert message.startswith(f"invalid marketplace catalogue ({len(problems)} problem(s))")


def test_files_and_the_industry_list_must_agree(tmp_path):
    write_catalog(tmp_path, GOOD)
    (tmp_path / "extra.yaml").write_text(GOOD, "utf-8")
    problems, _ = problems_of(tmp_path)
    assert [(p.file, p.path, p.reason) for p in problems] == [
        ("_shared.yaml", "industries", "extra.yaml is not listed")
    ]
    (tmp_path / "extra.yaml").unlink()
    (tmp_path / "demo.yaml").unlink()
    problems, _ = problems_of(tmp_path)
    assert problems[0].reason == "'demo' has no file demo.yaml"


def test_an_empty_industry_file_is_refused(tmp_path):
    problems, _ = problems_of(write_catalog(tmp_path, ""))
    assert [(p.file, p.reason) for p in problems] == [("demo.yaml", "the file is empty")]
