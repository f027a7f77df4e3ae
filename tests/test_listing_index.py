"""The in-memory listing index behind search follows the database exactly: every committed write at once, a session's
own uncommitted writes, nothing of a rolled-back transaction, and (PostgreSQL) a transaction that commits after a
later one; its counts agree with SQL over the listings."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

from saas.app import create_app
from saas.core.extensions import db
from saas.core.tenancy import set_tenant
from saas.marketplace import listing_index
from saas.marketplace.search import MOQ_VALUES, SearchParams, in_category, search
from saas.models import Firm, Product, ProductListing, utcnow
from tests.conftest import BACKEND, app_session, fresh_database

CREPE = "silk/silk-fabric/crepe-de-chine"


def _search(app, **params):
    with app.test_request_context():
        return search(db.session, SearchParams(**params), 20, "zh")


def test_a_publish_an_edit_and_a_withdrawal_show_in_the_next_search(app, firm_a, firm_b, publish_product):
    before = _search(app, q="真丝").total
    first = publish_product(firm_a, "新到19姆米真丝双绉", moq="50")
    after = _search(app, q="真丝")
    assert after.total == before + 1 and first in [p.id for p in after.products]
    assert {f.value: f.count for f in after.facets["moq"]}.get("-100") == 1
    with app_session(app, firm_a.id) as s:  # an edit moves it to another MOQ range at once
        s.get(Product, (firm_a.id, first)).moq = Decimal(700)
    assert {f.value: f.count for f in _search(app, q="真丝").facets["moq"]}.get("500-1000") == 1
    with app_session(app) as s:  # the bureau verifies the supplier: the verified facet counts it
        s.get(Firm, firm_a.id).verified_at = utcnow()
    assert _search(app, q="真丝", verified=True).total == 1
    with app_session(app, firm_a.id) as s:
        s.get(Product, (firm_a.id, first)).status = "archived"
    assert _search(app, q="真丝").total == before


def test_a_session_sees_its_own_writes_and_a_rollback_forgets_them(app, firm_a, publish_product):
    product_id = publish_product(firm_a, "真丝乔其纱新品", moq="50")
    with app.test_request_context():
        s = db.session
        set_tenant(s, firm_a.id)
        savepoint = s.begin_nested()
        s.get(Product, (firm_a.id, product_id)).moq = Decimal(6000)
        s.flush()
        assert [f.value for f in search(s, SearchParams(q="乔其"), 20, "zh").facets["moq"]] == ["5000-"]
        savepoint.rollback()  # the index applied a write that never committed: it must notice and forget it
        assert [f.value for f in search(s, SearchParams(q="乔其"), 20, "zh").facets["moq"]] == ["-100"]


def test_counts_agree_with_sql_over_the_listings(app, create_firm, publish_product):
    firms = [create_firm(county=c) for c in ("nanhu", "haining", "tongxiang")]
    for i in range(24):
        publish_product(
            firms[i % 3], f"真丝面料{i}", CREPE if i % 2 else "silk/silk-fabric/crepe-satin", moq=str(40 * (i + 1) ** 2)
        )
    with app_session(app) as s:
        s.get(Firm, firms[1].id).verified_at = utcnow()
    with app.test_request_context():
        s = db.session
        for params in (
            SearchParams(q="真丝"),
            SearchParams(q="真丝", county="haining"),
            SearchParams(category=CREPE, verified=True),
            SearchParams(q="面料", moq=(MOQ_VALUES[1], MOQ_VALUES[4])),
            SearchParams(industry="silk", county="tongxiang", sort="moq", page=2),
            SearchParams(q="真丝", category="silk/silk-fabric", sort="newest"),
        ):
            result = search(s, params, 5, "zh")
            L = ProductListing
            stmt = select(func.count()).select_from(L)
            if params.category:
                stmt = stmt.where(in_category(L.category_slug, params.category))
            if params.industry:
                stmt = stmt.where(L.industry == params.industry)
            if params.county:
                stmt = stmt.where(L.county == params.county)
            if params.verified:
                stmt = stmt.where(L.verified.is_(True))
            if params.moq:
                stmt = stmt.where((L.moq < 500) & (L.moq >= 100) | (L.moq >= 5000))
            if params.q:
                stmt = stmt.where(L.title_zh.contains(params.q))  # every title here holds the whole query
            assert result.total == s.scalar(stmt), params
            order = {"moq": [L.moq, L.published_at.desc()], "newest": [L.published_at.desc()]}.get(params.sort)
            if order:  # the same page as SQL would cut (ties by product id)
                page = stmt.with_only_columns(L.product_id).order_by(*order, L.product_id)
                page = page.offset((params.page - 1) * 5).limit(5)
                assert [p.id for p in result.products] == list(s.scalars(page)), params


def test_removed_and_changed_listings_reuse_no_stale_slot():
    """Unit level: an update re-adds a listing under the same key (SQLite reuses the rowid) without losing it."""
    groups = listing_index.Groups()

    def rows(keys, ids, moq):
        n = len(keys)
        return listing_index._Rows(
            keys=np.array(keys, dtype=np.int64),
            product_ids=ids,
            firm=np.zeros(n, dtype=np.int32),
            group=groups.gids(["silk"] * n, [CREPE] * n, ["nanhu"] * n, [False] * n, np.array(moq, dtype=float)),
            published=np.arange(n, dtype=np.int64),
            pid_prefix=np.arange(n, dtype=np.uint64),
            moq=np.array(moq, dtype=float),
            titles=["t"] * n,
        )

    first = listing_index._snapshot(rows([1, 2, 3], ["a" * 32, "b" * 32, "c" * 32], [1, 200, 6000]), groups, 1)
    second = listing_index._apply(first, ["b" * 32, "c" * 32], rows([2], ["b" * 32], [900]), 2)  # c withdrawn
    assert second.slots_of(np.array([1, 2, 3, 4])).tolist() == [0, 3]  # key 2 now lives in the new slot
    assert second.moq[second.slots_of(np.array([2]))].tolist() == [900.0]
    assert second.dead == 2 and second.generation == 2


def _committed_products(urls, app, titles):
    """A firm and published products, committed for real as the database owner (outside the test's transaction)."""
    from saas.auth.services import register_firm
    from tests.conftest import valid_uscc

    owner = create_engine(urls.owner)  # on PostgreSQL the superuser: no RLS context needed to set the scene
    with app.test_request_context(), Session(owner) as s:
        firm, _user = register_firm(
            s, firm_name="索引测试丝绸有限公司", uscc=valid_uscc(1), industry="silk", county="nanhu", park=None,
            employees=10, revenue_wan=100, contact_name="张三", contact_phone=None, owner_name="张三",
            email="index@example.com", password="Index-test-2026",
        )  # fmt: skip
        products = [_product(firm.id, title) for title in titles]
        s.add_all(products)
        s.commit()
        return owner, firm.id, [p.id for p in products]


def _product(firm_id, title):
    return Product(
        firm_id=firm_id, industry="silk", category_slug=CREPE, title_zh=title, sale_unit="m", moq=Decimal(10),
        lead_time_days=1, status="published", published_at=utcnow(), search_text="真 丝 真丝",
    )  # fmt: skip


@pytest.mark.skipif(BACKEND != "postgres", reason="PostgreSQL-only; runs in the PostgreSQL pass of `make test`")
def test_a_transaction_that_commits_after_a_later_one_is_not_missed():
    """Sequence values are handed out before commit: T1 writes first and commits last; the index must still see it."""
    from config import TestingConfig

    urls = fresh_database("jx_test_listing_order")
    other = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=urls.app)
    owner, _firm_id, ids = _committed_products(urls, other, ("真丝甲", "真丝乙"))
    try:

        def moq_counts():
            with other.test_request_context():
                result = search(db.session, SearchParams(q="真丝"), 20, "zh")
                return {f.value: f.count for f in result.facets["moq"]}

        assert moq_counts() == {"-100": 2}
        with owner.connect() as first, owner.connect() as second:
            t1 = first.begin()
            first.execute(text("UPDATE products SET moq = 600 WHERE id = :i"), {"i": ids[0]})  # T1: the earlier seq
            with second.begin():  # T2: a later seq, committed first
                second.execute(text("UPDATE products SET moq = 6000 WHERE id = :i"), {"i": ids[1]})
            assert moq_counts() == {"-100": 1, "5000-": 1}
            t1.commit()
        assert moq_counts() == {"500-1000": 1, "5000-": 1}
    finally:
        other.extensions["database"][0].dispose()
        owner.dispose()


@pytest.mark.skipif(BACKEND != "sqlite", reason="SQLite-only: PostgreSQL reads committed rows in every statement")
def test_a_reader_with_an_older_snapshot_neither_reloads_nor_rewinds_the_index():
    """A threaded server: a request whose transaction began before a publish searches after the index applied it."""
    from config import TestingConfig

    urls = fresh_database("jx_test_listing_stale")
    other = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=urls.app)
    engine = other.extensions["database"][0]
    owner, firm_id, _ids = _committed_products(urls, other, ("真丝甲",))
    index = listing_index.ListingIndex()
    try:
        with Session(engine) as stale, Session(engine) as fresh, Session(owner) as writer:
            index.current(fresh)
            fresh.rollback()
            stale.execute(text("SELECT count(*) FROM listing_changes")).all()  # its snapshot starts here
            added = _product(firm_id, "真丝乙")
            set_tenant(writer, firm_id)
            writer.add(added)
            writer.flush()
            key = added.id.hex  # as SQLite stores it
            writer.commit()
            assert key in index.current(fresh).by_product  # applied from the log
            generation = index.generation
            seen = index.current(stale)  # the log row it applied is not in this older snapshot
            assert index.generation == generation and key in seen.by_product
            assert seen.cache is not index.snapshot.cache  # what it derives from its older view stays its own
    finally:
        engine.dispose()
        owner.dispose()


@pytest.mark.skipif(BACKEND != "postgres", reason="PostgreSQL-only; runs in the PostgreSQL pass of `make test`")
def test_a_session_sees_its_own_later_writes_after_another_transaction_began():
    """The reader's own transaction id is below the snapshot's xmax once a later transaction exists, and it is never
    among the snapshot's open transactions: its writes after a search must still reach the index."""
    from config import TestingConfig
    from saas.core.tenancy import set_tenant

    urls = fresh_database("jx_test_listing_own")
    other = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=urls.app)
    owner, firm_id, ids = _committed_products(urls, other, ("真丝甲", "真丝乙"))
    engine = other.extensions["database"][0]
    try:
        with Session(engine) as mine, owner.connect() as later:
            set_tenant(mine, firm_id)
            mine.get(Product, (firm_id, ids[0])).moq = Decimal(600)
            mine.flush()  # this transaction now has an id
            with later.begin():  # a later transaction id, committed
                later.execute(text("UPDATE products SET lead_time_days = 2 WHERE id = :i"), {"i": ids[1]})
            with other.test_request_context():
                assert {f.value for f in search(mine, SearchParams(q="真丝"), 20, "zh").facets["moq"]} == {
                    "-100",
                    "500-1000",
                }
                mine.get(Product, (firm_id, ids[1])).moq = Decimal(6000)  # written after the search
                mine.flush()
                moq = {f.value for f in search(mine, SearchParams(q="真丝"), 20, "zh").facets["moq"]}
                assert moq == {"500-1000", "5000-"}
            mine.rollback()
    finally:
        engine.dispose()
        owner.dispose()


def test_an_empty_attribute_table_filters_and_counts_nothing(app):
    from saas.marketplace.search import _AttributeTable, filterable

    params = SearchParams(category=CREPE, attrs=(("fibre_composition", ("spandex",)),))
    with app.test_request_context():
        snap = listing_index.current(db.session)
        table = _AttributeTable.build(db.session, snap, filterable(params), CREPE, np.empty(0, dtype=np.int64))
    slots = np.array([0, 1], dtype=np.int64)
    assert table.passes(slots, params).tolist() == [False, False]
    assert table.facets(slots, params, "zh") == []


def test_a_sync_that_fails_half_way_loses_no_change(app, firm_a, publish_product, monkeypatch):
    """The log position moves before the changed listings are read: if that read fails, the next search reloads."""
    publish_product(firm_a, "真丝围巾")
    assert _search(app, q="真丝").total == 1
    publish_product(firm_a, "真丝方巾")
    real = listing_index._Rows.read

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(listing_index._Rows, "read", broken)
    with pytest.raises(RuntimeError):
        _search(app, q="真丝")
    monkeypatch.setattr(listing_index._Rows, "read", real)
    assert _search(app, q="真丝").total == 2
