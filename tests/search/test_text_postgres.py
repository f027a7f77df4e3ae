"""The tsquery rendering against PostgreSQL: array_to_tsvector(index_terms) @@ to_tsquery(plan)::tsquery == matches().

Runs in the PostgreSQL pass only; it uses a temporary table in the server's ``postgres`` database.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import make_url

from saas.marketplace.text import index_terms, matches, query_plan, to_tsquery

pytestmark = pytest.mark.postgres_only
FIXTURES = Path(__file__).with_name("fixtures")
PRODUCTS = {
    int(row_id): title
    for row_id, title in (line.split("\t") for line in (FIXTURES / "products.tsv").read_text("utf-8").splitlines()[1:])
}
QUERIES = [line.split("\t")[0] for line in (FIXTURES / "queries.tsv").read_text("utf-8").splitlines()[1:]]
HOSTILE = ["'", "\\", "it's", "a\\'b", "真丝 & 牛皮 | !", "x:*", "<->", "lea"]


@pytest.fixture(scope="module")
def pg() -> Iterator[psycopg.Connection]:
    url = make_url(os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/jx_test"))
    try:
        connection = psycopg.connect(
            host=url.host, port=url.port or 5432, user=url.username, password=url.password, dbname="postgres"
        )
    except psycopg.OperationalError as exc:
        if os.environ.get("REQUIRE_SERVICES") == "1":
            pytest.fail(f"PostgreSQL required: {exc}")
        pytest.skip(f"PostgreSQL not reachable: {exc}")
    connection.execute("create temporary table search_products (id int primary key, tokens tsvector)")
    with connection.cursor() as cursor:
        cursor.executemany(
            "insert into search_products values (%s, array_to_tsvector(%s::text[]))",
            [(row_id, index_terms(title)) for row_id, title in PRODUCTS.items()],
        )
    yield connection
    connection.close()


def test_every_index_term_is_one_lexeme(pg: psycopg.Connection) -> None:
    rows = pg.execute("select id, tsvector_to_array(tokens) from search_products").fetchall()
    assert {row_id: set(lexemes) for row_id, lexemes in rows} == {
        row_id: set(index_terms(title)) for row_id, title in PRODUCTS.items()
    }


@pytest.mark.parametrize("query", QUERIES + HOSTILE)
def test_tsquery_finds_what_matches_finds(pg: psycopg.Connection, query: str) -> None:
    plan = query_plan(query)
    if plan.is_empty:
        with pytest.raises(ValueError):
            to_tsquery(plan)
        return
    rows = pg.execute("select id from search_products where tokens @@ %s::tsquery", (to_tsquery(plan),))
    expected = {row_id for row_id, title in PRODUCTS.items() if matches(plan, set(index_terms(title)))}
    assert {row_id for (row_id,) in rows} == expected
