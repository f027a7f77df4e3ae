"""Recall and precision of the pipeline on the fixture corpus, against an independent substring oracle.

The gold set (fixtures/queries.tsv) is what ``oracle_ids`` computes; it does not use index_terms or query_plan. After
editing the fixtures, regenerate it with ``.venv/bin/python tests/search/test_text_recall.py`` and review the diff.

The oracle's rule: normalise query and title with ``normalise``, drop the title's spaces next to Chinese characters,
spell the query with each synonym; a title matches if, for some spelling, every part of the query (a Chinese run or a
Latin/digit word; spaces separate parts) occurs in it. Chinese parts match anywhere. Latin parts must start where a
word or a letter/digit piece starts and end where one ends, except the query's own last word, which may be unfinished
(type-ahead).
"""

from __future__ import annotations

import re
import sys
from functools import cache
from pathlib import Path

import pytest

from saas.marketplace.text import index_terms, matches, normalise, query_plan
from saas.marketplace.text.synonyms import load_rows

FIXTURES = Path(__file__).with_name("fixtures")
CJK = "\u3400-\u4dbf\u4e00-\u9fff"
PART = re.compile(rf"[{CJK}]+|(?:[^\W_{CJK}]|(?<=\d)\.(?=\d))+")
SPACE_BY_CJK = re.compile(rf"\s+(?=[{CJK}])|(?<=[{CJK}])\s+")


def load_products() -> dict[int, str]:
    lines = (FIXTURES / "products.tsv").read_text(encoding="utf-8").splitlines()[1:]
    return {int(row_id): title for row_id, title in (line.split("\t") for line in lines)}


def load_gold() -> dict[str, frozenset[int]]:
    lines = (FIXTURES / "queries.tsv").read_text(encoding="utf-8").splitlines()[1:]
    return {query: frozenset(map(int, ids.split())) for query, ids in (line.split("\t") for line in lines)}


PRODUCTS = load_products()
GOLD = load_gold()


@cache
def indexed(row_id: int) -> frozenset[str]:
    return frozenset(index_terms(PRODUCTS[row_id]))


def search(query: str) -> frozenset[int]:
    plan = query_plan(query)
    return frozenset(row_id for row_id in PRODUCTS if matches(plan, indexed(row_id)))


# --- The oracle -----------------------------------------------------------------------------------------------


@cache
def squash(text: str) -> str:
    return SPACE_BY_CJK.sub("", normalise(text))


@cache
def synonym_groups(kind: str) -> list[list[str]]:
    return [[normalise(member) for member in row.members] for row in load_rows() if row.kind == kind]


@cache
def spellings(query: str) -> list[str]:
    """The normalised query, then the query with one synonym (or one unit after a number) swapped in."""
    base = normalise(query)
    found = [base]
    for group in synonym_groups("term"):
        for member in group:
            latin = not re.search(f"[{CJK}]", member)
            pattern = rf"(?<![^\W_{CJK}]){re.escape(member)}(?![^\W_{CJK}])" if latin else re.escape(member)
            for other in group:
                spaced = other if re.search(f"[{CJK}]", other) else f" {other} "
                found.append(re.sub(pattern, lambda _m, spaced=spaced: spaced, base))
    for units in synonym_groups("unit"):
        pattern = rf"(?<![\d.])(\d+(?:\.\d+)*) ?({'|'.join(map(re.escape, units))})(?![^\W_{CJK}])"
        for other in units:
            found.append(re.sub(pattern, lambda match, other=other: f"{match[1]} {other}", base))
    return list(dict.fromkeys(found))


def kind(char: str) -> str | None:
    if re.match(f"[{CJK}]", char) or not char.isalnum():
        return None
    return "digit" if char.isdigit() else "letter"


def inside_number(text: str, index: int) -> bool:
    return 0 < index < len(text) - 1 and text[index] == "." and text[index - 1].isdigit() and text[index + 1].isdigit()


def occurs(part: str, title: str, unfinished: bool) -> bool:
    if kind(part[0]) is None:  # a Chinese run: a plain substring
        return part in title
    single_piece = len({kind(char) for char in part if char != "."}) == 1
    start = title.find(part)
    while start != -1:
        end = start + len(part)
        starts = start == 0 or not (kind(title[start - 1]) == kind(part[0]) or inside_number(title, start - 1))
        after = kind(title[end]) if end < len(title) else None
        ends = unfinished or after is None and not inside_number(title, end) or single_piece and after != kind(part[-1])
        if starts and ends:
            return True
        start = title.find(part, start + 1)
    return False


def oracle(query: str, title: str) -> bool:
    """Whether the title contains the query by the rule in this module's docstring."""
    text = squash(title)
    last = PART.findall(normalise(query))[-1:]
    for spelling in spellings(query):
        parts = PART.findall(spelling)
        if parts and all(occurs(p, text, i == len(parts) - 1 and parts[-1:] == last) for i, p in enumerate(parts)):
            return True
    return False


def oracle_ids(query: str) -> frozenset[int]:
    return frozenset(row_id for row_id, title in PRODUCTS.items() if oracle(query, title))


def write_gold() -> None:
    rows = [f"{query}\t{' '.join(map(str, sorted(oracle_ids(query))))}" for query in GOLD]
    (FIXTURES / "queries.tsv").write_text("query\texpected_ids\n" + "\n".join(rows) + "\n", encoding="utf-8")


# --- Tests ----------------------------------------------------------------------------------------------------


def is_chinese(query: str) -> bool:
    return re.fullmatch(f"[{CJK}]+", normalise(query)) is not None


def test_fixture_size_and_shape() -> None:
    assert len(PRODUCTS) >= 300
    assert len(GOLD) >= 80
    assert all(GOLD.values()), [query for query, ids in GOLD.items() if not ids]
    two = {q for q in GOLD if is_chinese(q) and len(normalise(q)) == 2}
    assert {"真丝", "丝巾", "牛皮", "箱包", "经编", "羊绒", "实木", "皮革", "面料", "毛衫", "拉杆"} <= two


def test_gold_file_is_what_the_oracle_computes() -> None:
    stale = {query for query, ids in GOLD.items() if oracle_ids(query) != ids}
    assert not stale, f"run tests/search/test_text_recall.py to regenerate: {sorted(stale)}"


@pytest.mark.parametrize("query", list(GOLD))
def test_recall_is_complete(query: str) -> None:
    missed = GOLD[query] - search(query)
    assert not missed, {row_id: PRODUCTS[row_id] for row_id in missed}


@pytest.mark.parametrize("query", [q for q in GOLD if is_chinese(q) and len(normalise(q)) <= 2])
def test_one_and_two_character_queries_are_exact(query: str) -> None:
    extra = search(query) - GOLD[query]
    assert not extra, {row_id: PRODUCTS[row_id] for row_id in extra}


@pytest.mark.parametrize("query", [q for q in GOLD if is_chinese(q) and len(normalise(q)) > 2])
def test_longer_queries_over_match_only_by_scattered_bigrams(query: str) -> None:
    """Requiring all bigrams approximates a phrase: an extra hit must hold every bigram of one spelling."""
    for row_id in search(query) - GOLD[query]:
        text = squash(PRODUCTS[row_id])
        bigrams = [{run[i : i + 2] for run in PART.findall(s) for i in range(len(run) - 1)} for s in spellings(query)]
        assert any(all(bigram in text for bigram in spelling) for spelling in bigrams), PRODUCTS[row_id]


@pytest.mark.parametrize(
    ("query", "title_part"),
    [
        ("真丝", "仿真丝 涤纶雪纺"),  # substring semantics: imitation silk contains 真丝
        ("牛皮", "牛皮纸 包装袋"),  # kraft paper: the price of not segmenting words
        ("丝巾", "丝巾扣 胸针"),
        ("真丝", "真絲睡衣套裝"),  # Traditional title
        ("真丝", "16姆米桑蚕丝电力纺"),  # synonym 桑蚕丝
        ("拉杆箱", "行李箱 铝框"),  # synonym 行李箱
        ("经编", "經編布 運動服"),
        ("silk", "ＳＩＬＫ　１００％"),  # full-width title
        ("羊绒", "Ｃａｓｈｍｅｒｅ　羊絨"),
        ("19mm 真丝", "真丝 Charmeuse 素绉缎 19 momme"),  # unit synonym, spaced
        ("真丝围巾", "真丝围巾 女 新款"),
        ("真丝 围巾", "厂家直销真丝双绉"),  # spaces in a query separate terms (AND)
        ("丝巾真丝", "丝巾 真丝 纯色 Silk"),  # a document's Chinese runs are joined across spaces
    ],
)
def test_reviewed_examples(query: str, title_part: str) -> None:
    row_ids = [row_id for row_id, title in PRODUCTS.items() if title_part in title]
    assert len(row_ids) == 1
    assert row_ids[0] in (GOLD[query] if query in GOLD else oracle_ids(query))
    assert row_ids[0] in search(query)


@pytest.mark.parametrize(
    ("variant", "plain"),
    [
        ("真絲", "真丝"),
        ("經編", "经编"),
        ("ＳＩＬＫ", "silk"),
        ("Silk", "silk"),
        ("SILK SCARF", "silk scarf"),
        ("拉桿箱", "拉杆箱"),
        ("頭層牛皮", "头层牛皮"),
        ("羊絨衫", "羊绒衫"),
        ("傢俱", "家具"),
        ("１９ｍｍ　真丝", "19mm 真丝"),
        ("Crêpe de Chine", "crepe de chine"),
    ],
)
def test_spelling_variants_find_the_same_products(variant: str, plain: str) -> None:
    assert search(variant) == search(plain)
    assert search(plain)


if __name__ == "__main__":
    write_gold()
    sys.stdout.write(f"wrote {len(GOLD)} queries over {len(PRODUCTS)} products\n")
