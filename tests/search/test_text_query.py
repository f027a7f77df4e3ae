"""query_plan(), matches(), the tsquery rendering and highlight()."""

from __future__ import annotations

import pytest

from saas.marketplace.text import highlight, index_terms, matches, query_plan, to_tsquery
from saas.marketplace.text.pipeline import MAX_QUERY_CHARS, default_synonyms, is_cjk, normalise
from saas.marketplace.text.synonyms import SynonymRow, SynonymTable, load_rows

NO_SYNONYMS = SynonymTable()


def groups(query: str, table: SynonymTable = NO_SYNONYMS) -> tuple[tuple[tuple[str, ...], ...], ...]:
    return query_plan(query, table).groups


def found(query: str, title: str) -> bool:
    return matches(query_plan(query), set(index_terms(title)))


def test_chinese_terms_need_their_bigrams_or_their_single_character() -> None:
    assert groups("真丝围巾") == ((("真丝", "丝围", "围巾"),),)
    assert groups("丝") == ((("丝",),),)
    assert groups("真丝 围巾") == ((("真丝",),), (("围巾",),))  # a space separates terms


def test_the_last_latin_word_is_a_prefix_while_typing() -> None:
    assert groups("silk cre") == ((("silk",),), (("cre*",),))
    assert groups("silk cre ") == ((("silk",),), (("cre",),))
    assert groups("silk 真丝") == ((("silk",),), (("真丝",),))
    assert found("lea", "Genuine Leather Handbag") and not found("lea ", "Genuine Leather Handbag")


def test_synonyms_are_alternatives_of_one_term() -> None:
    plan = query_plan("真丝围巾")
    assert plan.terms == ("真丝围巾",)
    assert plan.groups == ((("真丝", "丝围", "围巾"), ("桑蚕", "蚕丝", "丝围", "围巾"), ("mulberry", "silk", "围巾")),)
    assert found("真丝", "100%桑蚕丝方巾") and found("桑蚕丝", "真丝围巾")
    assert found("拉杆箱", "旅行箱 ABS+PC") and found("旅行箱", "行李箱 铝框")
    assert found("crepe de chine", "真丝双绉") and found("双绉", "19mm Crepe de Chine")
    assert found("cashmere", "羊绒衫") and found("开司米", "Cashmere Sweater")


def test_latin_synonyms_match_whole_words_only() -> None:
    assert query_plan("cashmere").groups[0][0] == ("cashmere*",)
    assert len(query_plan("cashmeres").groups[0]) == 1


def test_numbers_with_units_use_every_unit_spelling() -> None:
    assert groups("19姆米", default_synonyms()) == ((("19", "姆米"), ("19", "momme"), ("19", "mm")),)
    assert query_plan("19姆米真丝").terms == ("19姆米", "真丝")
    for query in ("19mm", "19 mm", "19姆米", "19 momme", "１９ＭＭ"):
        assert found(query, "19姆米真丝") and found(query, "22 Momme 19mm") and found(query, "19 momme silk")
    assert not found("mm", "22姆米真丝")  # a bare "mm" stays millimetres


def test_glued_codes_in_a_query_also_match_separate_words() -> None:
    assert found("oempu", "OEM PU 人造革") and found("pu", "OEMPU 人造革")


def test_repeated_terms_and_empty_queries() -> None:
    assert query_plan("真丝 真丝 ").groups == query_plan("真丝 ").groups
    for query in ("", "   ", '"*^:() -+', "，。！"):
        plan = query_plan(query)
        assert plan.is_empty and not matches(plan, {"真丝"})


def test_long_queries_are_cut() -> None:
    assert len(query_plan("真丝" * 500).text) == MAX_QUERY_CHARS


def test_synonym_combinations_are_capped() -> None:
    rows = [SynonymRow("t", "term", (f"a{i}", f"b{i}", f"c{i}")) for i in range(5)]
    letters = SynonymTable.build(rows, normalise, is_cjk)
    assert len(groups("a0", letters)[0]) == 3
    cjk_rows = [SynonymRow("t", "term", tuple(c * 2 for c in chars)) for chars in ("一二三四五", "甲乙丙丁戊")]
    table = SynonymTable.build(cjk_rows, normalise, is_cjk)
    assert len(groups("一一甲甲", table)[0]) == 16  # of 25 spellings
    assert groups("一一甲甲", table)[0][0] == ("一一", "一甲", "甲甲")  # the literal spelling comes first


def test_matches_semantics() -> None:
    plan = query_plan("真丝 lea")
    assert matches(plan, {"真丝", "leather"})
    assert not matches(plan, {"真丝"})
    assert not matches(plan, {"leather", "真", "丝"})


def test_tsquery_rendering_quotes_every_lexeme() -> None:
    assert to_tsquery(query_plan("真丝 cre", NO_SYNONYMS)) == "(('真丝')) & (('cre':*))"
    assert to_tsquery(query_plan("19mm", default_synonyms())).startswith("(('19' & 'mm':*) | ")
    with pytest.raises(ValueError):
        to_tsquery(query_plan("'&|!"))


def test_load_rows_rejects_malformed_lines(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "synonyms.tsv"
    path.write_text("# comment\n\nsilk\tterm\t真丝\t桑蚕丝\n", encoding="utf-8")
    assert load_rows(path) == [SynonymRow("silk", "term", ("真丝", "桑蚕丝"))]
    path.write_text("silk\tterm\t真丝\n", encoding="utf-8")
    with pytest.raises(ValueError, match="synonyms.tsv:1"):
        load_rows(path)
    assert load_rows()  # the shipped table loads


@pytest.mark.parametrize(
    ("text", "query", "marked"),
    [
        ("厂家直销真丝双绉印花丝巾", "丝巾", ["丝巾"]),
        ("真絲 圍巾", "真丝围巾", ["真絲", "圍巾"]),  # original characters, across the space
        ("ＳＩＬＫ　１００％ 真丝", "silk", ["ＳＩＬＫ"]),
        ("Genuine Leather", "lea", ["Lea"]),
        ("Crêpe de Chine", "crepe", ["Crêpe"]),
        ("Cre\u0302pe", "crepe", ["Cre\u0302pe"]),
        ("19mm 重磅真丝", "19姆米", ["19mm"]),
        ("桑蚕丝方巾", "真丝", ["桑蚕丝"]),
        ("牛皮纸 包装袋", "真丝", []),
    ],
)
def test_highlight(text: str, query: str, marked: list[str]) -> None:
    segments = highlight(text, query_plan(query))
    assert "".join(part for part, _hit in segments) == text
    assert [part for part, hit in segments if hit] == marked
