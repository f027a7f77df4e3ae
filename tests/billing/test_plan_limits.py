"""The free plan's product limit and monthly RFQ quotes go through billing.entitlements; Pro lifts them."""

from __future__ import annotations

from sqlalchemy import func, select

from saas.billing import rights
from saas.models import Product
from tests.conftest import app_session, grant_pro
from tests.test_market import GOOD
from tests.test_rfqs import _good_quote, _open_rfq, _quotes


def _products(app, firm):
    with app_session(app, firm.id) as s:
        return s.scalar(select(func.count()).select_from(Product))


def test_free_product_limit_keeps_the_input_and_pro_lifts_it(app, make_client, firm_a, publish_product, monkeypatch):
    monkeypatch.setattr(rights, "FREE_PRODUCT_LIMIT", 2)
    publish_product(firm_a)
    client = make_client()
    client.login(firm_a.owner_email)
    assert client.post("/firm/products/new", GOOD).status_code == 302
    refused = client.post("/firm/products/new", {**GOOD, "title_zh": "第三个产品真丝面料"})
    assert refused.status_code == 409 and "第三个产品真丝面料" in refused.get_data(as_text=True)
    assert "最多" in refused.get_data(as_text=True)
    assert _products(app, firm_a) == 2
    grant_pro(app, firm_a.id)
    assert client.post("/firm/products/new", {**GOOD, "title_zh": "第三个产品真丝面料"}).status_code == 302
    assert _products(app, firm_a) == 3


def test_free_monthly_quotes_run_out_and_pro_sends_more(
    app, create_user, make_client, create_firm, publish_product, monkeypatch
):
    monkeypatch.setattr(rights, "FREE_RFQ_QUOTES_PER_MONTH", 1)
    buyer = create_user("buyer")
    buyer_client = make_client()
    buyer_client.login(buyer["email"])
    first, second = _open_rfq(buyer_client), _open_rfq(buyer_client, title="真丝双绉面料 2000 米")
    firm = create_firm()
    publish_product(firm)
    supplier = make_client()
    supplier.login(firm.owner_email)
    assert supplier.post(f"/firm/rfqs/{first}", _good_quote()).status_code == 302
    refused = supplier.post(f"/firm/rfqs/{second}", _good_quote())
    assert refused.status_code == 409 and _quotes(app, second) == []
    grant_pro(app, firm.id)
    assert supplier.post(f"/firm/rfqs/{second}", _good_quote()).status_code == 302
    assert len(_quotes(app, second)) == 1


def test_bulk_import_is_pro(app, make_client, firm_a, tmp_path, monkeypatch):
    import io

    from tests.test_market_bulk import _csv, _row

    monkeypatch.setitem(app.config, "IMPORT_UPLOAD_DIR", str(tmp_path / "imports"))
    client = make_client()
    client.login(firm_a.owner_email)

    def post():
        fields = {"action": "import", "file": (io.BytesIO(_csv([_row("SKU-PRO-1")])), "p.csv")}
        return client.post("/firm/products/import", fields, content_type="multipart/form-data")

    refused = post()
    assert refused.status_code == 303 and refused.headers["Location"].endswith("/billing/")
    assert _products(app, firm_a) == 0
    grant_pro(app, firm_a.id)
    assert post().status_code == 302 and _products(app, firm_a) == 1
