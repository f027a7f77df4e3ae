"""The public search read model follows products and firms through database triggers, and holds published rows only;
on PostgreSQL the app role can read it but never write it."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from saas.models import Firm, Product, ProductListing, utcnow
from tests.conftest import BACKEND, app_session


def _listing(app, product_id):
    with app_session(app) as s:
        return s.scalar(select(ProductListing).where(ProductListing.product_id == product_id))


def test_listing_follows_the_product_and_its_supplier(app, firm_a, publish_product):
    product_id = publish_product(firm_a, "真丝双绉面料", moq="300")
    row = _listing(app, product_id)
    assert row is not None and row.firm_id == firm_a.id and row.county == "nanhu" and not row.verified
    assert row.moq == 300 and row.category_slug == "silk/silk-fabric/crepe-de-chine" and row.attributes["momme"] == 19
    with app_session(app, firm_a.id) as s:  # an edit is copied
        s.get(Product, (firm_a.id, product_id)).title_zh = "真丝双绉面料（新色）"
    assert _listing(app, product_id).title_zh == "真丝双绉面料（新色）"
    with app_session(app) as s:  # the bureau verifies the supplier: every listing of the firm says so
        s.get(Firm, firm_a.id).verified_at = utcnow()
    assert _listing(app, product_id).verified
    with app_session(app, firm_a.id) as s:  # back to review: gone from the public model
        s.get(Product, (firm_a.id, product_id)).status = "pending"
    assert _listing(app, product_id) is None
    with app_session(app, firm_a.id) as s:
        s.get(Product, (firm_a.id, product_id)).status = "published"
    assert _listing(app, product_id) is not None
    with app_session(app, firm_a.id) as s:
        s.delete(s.get(Product, (firm_a.id, product_id)))
    assert _listing(app, product_id) is None


def test_drafts_never_reach_the_listing(app, firm_a):
    from decimal import Decimal

    with app_session(app, firm_a.id) as s:
        draft = Product(
            firm_id=firm_a.id,
            industry="silk",
            category_slug="silk/silk-fabric/crepe-de-chine",
            title_zh="草稿",
            sale_unit="m",
            moq=Decimal(1),
            lead_time_days=1,
        )
        s.add(draft)
        s.flush()
        draft_id = draft.id
    assert _listing(app, draft_id) is None


@pytest.mark.skipif(BACKEND != "postgres", reason="PostgreSQL-only; runs in the PostgreSQL pass of `make test`")
def test_the_app_role_cannot_write_the_listing(app, firm_a, publish_product):
    product_id = publish_product(firm_a)
    with app_session(app) as s:
        with pytest.raises(DBAPIError, match="permission denied"):
            with s.begin_nested():
                s.execute(text("UPDATE product_listings SET verified = true"))
        with pytest.raises(DBAPIError, match="permission denied"):
            with s.begin_nested():
                s.execute(text("DELETE FROM product_listings"))
    assert _listing(app, product_id) is not None
