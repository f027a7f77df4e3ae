"""The FTS5 rendering against a real in-memory SQLite FTS5 table: token identity, parity with matches(), injection."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from saas.marketplace.text import FTS5_TOKENIZE, index_terms, matches, query_plan, to_fts5

FIXTURES = Path(__file__).with_name("fixtures")
PRODUCTS = {
    int(row_id): title
    for row_id, title in (line.split("\t") for line in (FIXTURES / "products.tsv").read_text("utf-8").splitlines()[1:])
}
QUERIES = [line.split("\t")[0] for line in (FIXTURES / "queries.tsv").read_text("utf-8").splitlines()[1:]]
TERMS = {row_id: frozenset(index_terms(title)) for row_id, title in PRODUCTS.items()}
HOSTILE = [
    '"',
    '真丝"',
    '"真丝" OR "牛皮"',
    "*",
    "真丝*",
    "AND",
    "真丝 AND 牛皮",
    "OR 牛皮",
    "NOT 真丝",
    "NEAR(",
    "NEAR(真丝 牛皮, 2)",
    "^真丝",
    "title:真丝",
    "x : y",
    "{title rowid}: 丝",
    "-真丝",
    "+牛皮",
    "(",
    ")",
    "'",
    "''; drop table products; --",
    '"""""',
    "\x00真丝",
    "真丝\u200b围巾",
    "lea*",
    "1.5mm",
    ".5",
]


@pytest.fixture(scope="module")
def db() -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(":memory:")
    connection.execute(f"create virtual table products using fts5(terms, tokenize = {sql_string(FTS5_TOKENIZE)})")
    connection.execute("create virtual table vocab using fts5vocab(products, instance)")
    connection.executemany(
        "insert into products (rowid, terms) values (?, ?)",
        [(row_id, " ".join(index_terms(title))) for row_id, title in PRODUCTS.items()],
    )
    yield connection
    connection.close()


def sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def fts5_ids(db: sqlite3.Connection, query: str) -> frozenset[int] | None:
    plan = query_plan(query)
    if plan.is_empty:
        return None
    rows = db.execute("select rowid from products where products match ?", (to_fts5(plan),))
    return frozenset(row_id for (row_id,) in rows)


def oracle_ids(query: str) -> frozenset[int] | None:
    plan = query_plan(query)
    return None if plan.is_empty else frozenset(row_id for row_id, terms in TERMS.items() if matches(plan, terms))


def test_stdlib_sqlite_has_fts5(db: sqlite3.Connection) -> None:
    assert db.execute("select count(*) from products").fetchone()[0] == len(PRODUCTS)


def test_every_index_term_is_exactly_one_fts5_token(db: sqlite3.Connection) -> None:
    rows = db.execute("select doc, term from vocab order by doc, offset").fetchall()
    tokens: dict[int, list[str]] = {}
    for row_id, term in rows:
        tokens.setdefault(row_id, []).append(term)
    assert tokens == {row_id: index_terms(title) for row_id, title in PRODUCTS.items()}


@pytest.mark.parametrize("query", QUERIES)
def test_fts5_finds_what_matches_finds(db: sqlite3.Connection, query: str) -> None:
    assert fts5_ids(db, query) == oracle_ids(query)
    assert oracle_ids(query)


@pytest.mark.parametrize("query", HOSTILE)
def test_fts5_syntax_in_user_input_is_only_text(db: sqlite3.Connection, query: str) -> None:
    assert fts5_ids(db, query) == oracle_ids(query)
    assert db.execute("select count(*) from products").fetchone()[0] == len(PRODUCTS)


def test_an_empty_plan_has_no_expression() -> None:
    with pytest.raises(ValueError):
        to_fts5(query_plan(' "* ^: '))


ALPHABET = st.sampled_from(sorted(set("".join(PRODUCTS.values())) | set("\"*^:()-+'{}., NEARANDORNOT")))


@settings(max_examples=200, deadline=None)
@given(st.text(ALPHABET, max_size=12))
def test_random_input_never_breaks_fts5(db: sqlite3.Connection, query: str) -> None:
    assert fts5_ids(db, query) == oracle_ids(query)
