"""normalise() and index_terms(): the half of the pipeline that documents and queries share."""

from __future__ import annotations

from pathlib import Path

import pytest

from saas.marketplace.text import index_terms, is_cjk, normalise
from saas.marketplace.text.synonyms import load_rows

FIXTURES = Path(__file__).with_name("fixtures")
TITLES = [line.split("\t")[1] for line in (FIXTURES / "products.tsv").read_text("utf-8").splitlines()[1:]]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ＳＩＬＫ　１００％", "silk 100%"),  # full-width letters, digits, space and sign
        ("Crepe de CHINE", "crepe de chine"),
        ("Crêpe", "crepe"),  # accented Latin folds to ASCII
        ("Cre\u0302pe", "crepe"),  # the same with a combining accent
        ("真絲綢緞 經編 服裝 頭層牛皮 拉桿箱", "真丝绸缎 经编 服装 头层牛皮 拉杆箱"),
        ("傢俱 羊絨衫 滌綸 針織 質量 級", "家具 羊绒衫 涤纶 针织 质量 级"),  # 傢俱 is converted as a phrase
        ("  真丝\t\n围巾  ", "真丝 围巾"),
        ("真丝\u200b围巾\ufeff", "真丝围巾"),  # zero-width and BOM characters vanish
        ("１９ｍｍ　重磅", "19mm 重磅"),
        ("㎜ ㎝ ５０㎏", "mm cm 50kg"),  # unit symbols expand
        ("", ""),
    ],
)
def test_normalise(raw: str, expected: str) -> None:
    assert normalise(raw) == expected


def test_normalise_is_idempotent_on_the_fixture() -> None:
    assert [title for title in TITLES if normalise(normalise(title)) != normalise(title)] == []
    assert [title for title in TITLES if index_terms(normalise(title)) != index_terms(title)] == []


def test_synonym_file_is_already_normalised() -> None:
    members = [member for row in load_rows() for member in row.members]
    assert [normalise(member) for member in members] == members


def test_is_cjk() -> None:
    assert all(map(is_cjk, "真丝〇々カタ𠀀"))
    assert not any(map(is_cjk, "a1 ，。・-"))


def test_chinese_runs_give_every_character_and_bigram() -> None:
    assert index_terms("真丝围巾") == ["真", "真丝", "丝", "丝围", "围", "围巾", "巾"]


def test_chinese_runs_join_across_spaces() -> None:
    assert "丝围" in index_terms("真丝 围巾")
    assert "丝围" not in index_terms("真丝，围巾")


def test_latin_words_and_numbers_with_units() -> None:
    assert index_terms("19mm Silk") == ["19mm", "19", "mm", "silk"]
    assert index_terms("1.5mm") == ["1.5mm", "1.5", "mm"]
    assert index_terms("abc123def") == ["abc123def", "abc", "123", "def", "123def"]
    assert index_terms("T-shirt, 100%!") == ["t", "shirt", "100"]


def test_glued_known_codes_are_split() -> None:
    assert index_terms("OEMPU") == ["oempu", "oem", "pu"]
    assert index_terms("pupil") == ["pupil"]  # not made only of codes


def test_mixed_script_title() -> None:
    terms = index_terms("19mm 重磅真丝 Crepe de Chine 双绉")
    assert {"19mm", "19", "mm", "重磅", "真丝", "crepe", "de", "chine", "双绉", "双", "绉"} <= set(terms)
    assert "丝c" not in terms and "chine双" not in terms
