"""Attribute values from forms and CSV: numbers with units and commas, bounds, enums by label, separators, text."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from saas.marketplace.catalog import Attribute, Label, Option, default_catalog, lookup_key
from saas.marketplace.catalog.attributes import (
    ERROR_CODES,
    format_value,
    normalise_for_search,
    parse_number,
    validate_attributes,
)

CATALOG = default_catalog()
CREPE = "silk/silk-fabric/crepe-de-chine"
PLYWOOD = "wood/panels/plywood"
HARD_SHELL = "luggage/trolley-cases/hard-shell"
BAG_LEATHER = "leather/materials/genuine/bag-leather"
MESH = "warp-knitting/fabrics/apparel/mesh"
CASHMERE = "garment/knitwear/cashmere-sweaters"
QUILTS = "silk/silk-products/silk-quilts"

# The required attributes of each template, so that single-attribute cases only see their own error.
BASE = {
    CREPE: {"fibre_composition": "真丝", "momme": "19"},
    PLYWOOD: {"formaldehyde_class": "E0", "thickness": "18"},
    HARD_SHELL: {"shell_material": "PC", "size": "20"},
    BAG_LEATHER: {"leather_type": "头层", "thickness": "1.2", "animal": "牛皮"},
    MESH: {"fibre_composition": "涤纶"},
    CASHMERE: {"fibre_composition": "羊绒"},
    QUILTS: {"fibre_composition": "桑蚕丝", "quilt_size": "200x230", "silk_content": "100"},
}

# (category, attribute, raw input, expected clean value or error code prefixed with "!")
CASES = [
    # numbers: plain, units typed by the user, full-width digits, decimal commas, conversions
    (CREPE, "momme", "19", 19),
    (CREPE, "momme", 19, 19),
    (CREPE, "momme", 19.5, 19.5),
    (CREPE, "momme", "19mm", 19),
    (CREPE, "momme", "19 姆米", 19),
    (CREPE, "momme", "１９ｍｍ", 19),
    (CREPE, "momme", "19,5", 19.5),
    (CREPE, "momme", " 19.5 momme ", 19.5),
    (CREPE, "momme", ["22"], 22),
    (CREPE, "fabric_width", "140cm", 140),
    (CREPE, "fabric_width", "1.4米", 140),
    (CREPE, "fabric_width", '55"', 139.5),  # 139.7 cm rounded to the 0.5 step
    (CREPE, "fabric_width", "114 公分", 114),
    (CREPE, "fabric_weight", "76,5 g/m²", 76.5),
    (CREPE, "fabric_weight", "80克", 80),
    (CREPE, "fabric_weight", "80 GSM", 80),
    (PLYWOOD, "thickness", "18mm", 18),
    (PLYWOOD, "thickness", "1.8厘米", 18),
    (PLYWOOD, "thickness", "0,5 mm", "!below_min"),
    (MESH, "knit_gauge", "E28", 28),
    (MESH, "knit_gauge", "28针", 28),
    (CASHMERE, "knit_gauge", "12G", 12),
    (CASHMERE, "knit_gauge", "12gg", 12),
    (HARD_SHELL, "size", "20寸", 20),
    (HARD_SHELL, "size", '24"', 24),
    (HARD_SHELL, "size", "28 inch", 28),
    (HARD_SHELL, "capacity", "35L", 35),
    (HARD_SHELL, "net_weight", "3,2公斤", 3.2),
    (QUILTS, "fill_weight", "4斤", 2),
    (QUILTS, "fill_weight", "1500克", 1.5),
    (QUILTS, "silk_content", "100%", 100),
    (QUILTS, "silk_content", "９５％", 95),
    # thousands separators: a comma followed by exactly three digits groups thousands
    (CREPE, "fabric_weight", "1,200 g/m²", 1200),
    (CREPE, "fabric_width", "0,5m", 50),
    # numbers: refused
    (CREPE, "momme", "19cm", "!bad_unit"),
    (CREPE, "momme", "约19", "!bad_unit"),
    (CREPE, "momme", "abc", "!not_a_number"),
    (CREPE, "momme", "19-22", "!not_a_number"),
    (CREPE, "momme", "19/22", "!not_a_number"),
    (CREPE, "momme", "1e3", "!not_a_number"),
    (CREPE, "momme", "nan", "!not_a_number"),
    (CREPE, "momme", float("nan"), "!not_a_number"),
    (CREPE, "momme", float("inf"), "!not_a_number"),
    (CREPE, "momme", True, "!not_a_number"),
    (CREPE, "momme", ["19", "22"], "!not_single"),
    (CREPE, "momme", "3", "!below_min"),
    (CREPE, "momme", "-19", "!below_min"),
    (CREPE, "momme", "61", "!above_max"),
    (CREPE, "momme", "19.3", "!step"),
    (CREPE, "fabric_width", "1,500", "!above_max"),
    (MESH, "guide_bars", "2.5", "!step"),
    (MESH, "guide_bars", "2把", "!bad_unit"),  # a unitless attribute takes no unit
    # enums: by id, by Chinese or English label, by alias; case, width and spacing do not matter
    (BAG_LEATHER, "leather_type", "top-grain", "top-grain"),
    (BAG_LEATHER, "leather_type", "头层皮", "top-grain"),
    (BAG_LEATHER, "leather_type", "头层", "top-grain"),
    (BAG_LEATHER, "leather_type", "Top grain leather", "top-grain"),
    (BAG_LEATHER, "leather_type", "二层", "split"),
    (BAG_LEATHER, "leather_type", "ｐｕ", "pu"),
    (BAG_LEATHER, "leather_type", "人造革", "pvc"),
    (BAG_LEATHER, "leather_type", ["超纤"], "microfibre"),
    (BAG_LEATHER, "leather_type", "鳄鱼皮", "!unknown_option"),
    (BAG_LEATHER, "leather_type", ["头层", "二层"], "!not_single"),
    (BAG_LEATHER, "animal", "牛皮", "cowhide"),
    (HARD_SHELL, "shell_material", "铝镁合金", "aluminium-magnesium"),
    (HARD_SHELL, "shell_material", "PC/ABS", "abs-pc"),
    (HARD_SHELL, "shell_material", "Oxford cloth", "oxford"),
    (HARD_SHELL, "wheels", "万向轮", "four-spinner"),
    (HARD_SHELL, "expandable", "否", "no"),
    (PLYWOOD, "formaldehyde_class", "E1", "e1"),
    (PLYWOOD, "formaldehyde_class", "e0级", "e0"),
    (PLYWOOD, "formaldehyde_class", "ENF级（≤0.025 mg/m³）", "enf"),
    (PLYWOOD, "formaldehyde_class", "E2", "!unknown_option"),
    (PLYWOOD, "panel_size", "1220*2440", "1220x2440"),
    (PLYWOOD, "panel_size", "1220×2440mm", "1220x2440"),
    (PLYWOOD, "wood_species", "Eucalyptus", "eucalyptus"),
    (QUILTS, "quilt_size", "220 x 240", "220x240"),
    # multi-enum: lists or one string with 、 , ， ; ； / | separators; template order, no duplicates
    (CREPE, "fibre_composition", "桑蚕丝、氨纶", ["mulberry-silk", "spandex"]),
    (CREPE, "fibre_composition", "silk, spandex", ["mulberry-silk", "spandex"]),
    (CREPE, "fibre_composition", "氨纶，真丝", ["mulberry-silk", "spandex"]),
    (CREPE, "fibre_composition", "真丝; 氨纶；棉", ["mulberry-silk", "cotton", "spandex"]),
    (CREPE, "fibre_composition", "涤/棉", ["cotton", "polyester"]),
    (CREPE, "fibre_composition", ["Spandex", "mulberry silk"], ["mulberry-silk", "spandex"]),
    (CREPE, "fibre_composition", ["真丝、氨纶", ""], ["mulberry-silk", "spandex"]),
    (CREPE, "fibre_composition", "真丝、桑蚕丝、silk", ["mulberry-silk"]),
    (CREPE, "fibre_composition", "真丝、火星丝", "!unknown_option"),
    (CREPE, "fibre_composition", "、 ,", "!required"),
    (CREPE, "colour_family", "红、Navy", ["red", "navy"]),
    # text: stripped, whitespace collapsed, control and invisible characters dropped, length-limited
    (CREPE, "composition_detail", " 93%桑蚕丝  7%氨纶 ", "93%桑蚕丝 7%氨纶"),
    (CREPE, "composition_detail", "a\nb\tc", "a b c"),
    (CREPE, "composition_detail", "a\x00b\u200bc", "abc"),
    (CREPE, "composition_detail", 42, "42"),
    (CREPE, "composition_detail", "丝" * 80, "丝" * 80),
    (CREPE, "composition_detail", "丝" * 81, "!too_long"),
    (CREPE, "composition_detail", ["a", "b"], "!not_text"),
    (CREPE, "composition_detail", {"a": 1}, "!not_text"),
    # required attributes: missing, blank, empty lists
    (CREPE, "momme", None, "!required"),
    (CREPE, "momme", "   ", "!required"),
    (CREPE, "fibre_composition", [], "!required"),
]


@pytest.mark.parametrize(("slug", "attribute", "raw", "expected"), CASES, ids=[f"{c[1]}={c[2]!r}" for c in CASES])
def test_validate_attributes(slug, attribute, raw, expected):
    values, errors = validate_attributes(CATALOG.attributes_for(slug), {**BASE[slug], attribute: raw})
    if isinstance(expected, str) and expected.startswith("!"):
        assert errors == {attribute: expected[1:]}
        assert attribute not in values
    else:
        assert errors == {}
        assert values[attribute] == expected
        assert type(values[attribute]) is type(expected)


def test_every_required_attribute_is_reported_and_optional_ones_left_out():
    values, errors = validate_attributes(CATALOG.attributes_for(BAG_LEATHER), {"colour_family": "", "hide_area": None})
    assert errors == {"leather_type": "required", "thickness": "required", "animal": "required"}
    assert values == {}


def test_unknown_attributes_are_reported_unless_ignored():
    template = CATALOG.attributes_for(CREPE)
    raw = {**BASE[CREPE], "colour": "red", "blank": "", 3: "x"}
    assert validate_attributes(template, raw)[1] == {"colour": "unknown_attribute", "3": "unknown_attribute"}
    values, errors = validate_attributes(template, raw, ignore_unknown=True)
    assert errors == {} and values == {"fibre_composition": ["mulberry-silk"], "momme": 19}


def test_max_choices():
    options = tuple(Option(i, Label(zh, i.title())) for i, zh in [("red", "红"), ("blue", "蓝"), ("green", "绿")])
    lookup = {lookup_key(s): o.id for o in options for s in (o.id, o.label.zh, o.label.en)}
    attr = Attribute("colours", "multi_enum", Label("颜色", "Colours"), options=options, max_choices=2, lookup=lookup)
    assert validate_attributes([attr], {"colours": "红、蓝"}) == ({"colours": ["red", "blue"]}, {})
    assert validate_attributes([attr], {"colours": "红、蓝、绿"}) == ({}, {"colours": "too_many"})


def test_a_converted_value_is_rounded_to_the_step_but_a_typed_one_is_not():
    width = CATALOG.attribute(CREPE, "fabric_width")
    assert parse_number(width, "58 inch") == Decimal("147.5")  # 147.32 cm
    assert validate_attributes([width], {"fabric_width": "147.3"}) == ({}, {"fabric_width": "step"})


def test_display_text():
    template = {attr.id: attr for attr in CATALOG.attributes_for(CREPE)}
    assert format_value(template["momme"], 19, "zh") == "19姆米"
    assert format_value(template["momme"], 19.5, "en") == "19.5 momme"
    assert format_value(template["fabric_weight"], 1200, "en_US") == "1200 g/m²"
    assert format_value(template["fibre_composition"], ["mulberry-silk", "spandex"]) == "桑蚕丝、氨纶"
    assert format_value(template["fibre_composition"], ["mulberry-silk", "spandex"], "en") == "Mulberry silk, Spandex"
    assert format_value(CATALOG.attribute(QUILTS, "silk_content"), 100, "en") == "100%"
    assert format_value(template["momme"], "x") == ""


def test_search_text_has_both_languages_and_skips_unsearchable_attributes():
    template = CATALOG.attributes_for(CREPE)
    values, errors = validate_attributes(
        template,
        {"fibre_composition": "真丝、氨纶", "momme": "19mm", "fabric_width": "140", "composition_detail": "93%桑蚕丝"},
    )
    assert errors == {}
    pieces = normalise_for_search(template, values)
    for expected in [
        "桑蚕丝",
        "Mulberry silk",
        "真丝",
        "氨纶",
        "Spandex",
        "姆米 19姆米",
        "Momme 19 momme",
        "门幅 140厘米",
    ]:
        assert expected in pieces
    assert "Fabric width 140 cm" in pieces and "93%桑蚕丝" in pieces
    assert len(pieces) == len(set(pieces))
    hidden = [dataclasses.replace(attr, searchable=False) if attr.id == "momme" else attr for attr in template]
    assert not any("19" in piece for piece in normalise_for_search(hidden, values))
    assert normalise_for_search(template, {"momme": "garbage", "fibre_composition": ["nope"]}) == []


# --- properties ------------------------------------------------------------------------------------------------------

LEAVES = CATALOG.leaves()
PIECES = st.sampled_from(
    list("0123456789.,，、;；/| -+eE%\"'寸姆米mcgkMLlx×*头层真丝PUpu\u3000\x00\u200b１９") + ["姆米", "g/m²"]
)


def pieces(max_size: int) -> st.SearchStrategy[str]:
    """Strings made of number, unit and separator pieces, to reach the parsing paths that random text rarely hits."""
    return st.lists(PIECES, max_size=max_size).map("".join)


RAW_VALUES = st.one_of(
    st.text(max_size=30),
    pieces(20),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.none(),
    st.lists(st.one_of(st.text(max_size=10), pieces(8), st.integers(), st.none()), max_size=4),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_validate_attributes_never_raises(data):
    leaf = data.draw(st.sampled_from(LEAVES))
    template = leaf.attributes
    keys = st.one_of(st.sampled_from([attr.id for attr in template]), st.text(max_size=8))
    raw = data.draw(st.dictionaries(keys, RAW_VALUES, max_size=len(template) + 2))
    values, errors = validate_attributes(template, raw)
    assert set(errors.values()) <= set(ERROR_CODES)
    assert not set(values) & set(errors)
    for attr in template:
        if attr.id not in values:
            continue
        value = values[attr.id]
        if attr.type == "number":
            assert type(value) in (int, float) and attr.min <= Decimal(str(value)) <= attr.max
        elif attr.type == "enum":
            assert attr.option(value) is not None
        elif attr.type == "multi_enum":
            assert value and all(attr.option(item) for item in value)
        else:
            assert isinstance(value, str) and 0 < len(value) <= attr.max_length
    assert isinstance(normalise_for_search(template, values), list)


NUMBERS = [attr for leaf in LEAVES for attr in leaf.attributes if attr.type == "number"]


@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_numbers_on_the_step_grid_round_trip_in_every_spelling(data):
    attr = data.draw(st.sampled_from(NUMBERS))
    steps = int((attr.max - attr.min) / attr.step)
    number = attr.min + attr.step * data.draw(st.integers(min_value=0, max_value=steps))
    text = format(number.normalize(), "f")
    spellings = [text, text.replace(".", ","), f" {text} "]
    if attr.unit is not None:
        spellings += [f"{text}{attr.unit.label.zh}", f"{text} {attr.unit.label.en}"]
    for spelling in spellings:
        values, errors = validate_attributes([attr], {attr.id: spelling})
        if "," in spelling and len(spelling.split(",")[-1].strip()) == 3 and spelling[0] != "0":
            continue  # "1,500" means fifteen hundred
        assert errors == {}, spelling
        assert Decimal(str(values[attr.id])) == number, spelling
