"""Buyer tools: favourites per account and a comparison of up to four products side by side."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from saas.models import Favourite, Product
from tests.conftest import app_session


def _fav(client, product_id):
    return client.post(f"/favourites/{product_id}", {"next": "/favourites"})


def test_favourites_are_saved_per_account_and_toggle(app, make_client, create_user, firm_b, publish_product):
    first = publish_product(firm_b, "真丝围巾")
    second = publish_product(firm_b, "桑蚕丝双绉面料")
    buyer = make_client()
    buyer.login(create_user("buyer")["email"])
    assert buyer.get("/favourites").status_code == 200
    assert 'aria-pressed="false"' in buyer.get(f"/market/products/{first}").get_data(as_text=True)
    assert _fav(buyer, first).status_code == 302
    _fav(buyer, second)
    assert 'aria-pressed="true"' in buyer.get(f"/market/products/{first}").get_data(as_text=True)
    page = buyer.get("/favourites").get_data(as_text=True)
    assert re.findall(r'data-product="([^"]+)"', page) == [str(second), str(first)]  # newest saved first
    other = make_client()
    other.login(create_user("buyer")["email"])
    assert "data-product=" not in other.get("/favourites").get_data(as_text=True)
    _fav(buyer, first)  # toggles off
    assert re.findall(r'data-product="([^"]+)"', buyer.get("/favourites").get_data(as_text=True)) == [str(second)]


def test_unpublished_favourites_drop_out_and_can_be_forgotten(app, make_client, create_user, firm_b, publish_product):
    product = publish_product(firm_b, "真丝围巾")
    buyer = make_client()
    user = create_user("buyer")
    buyer.login(user["email"])
    _fav(buyer, product)
    with app_session(app, firm_b.id) as s:
        s.get(Product, (firm_b.id, product)).status = "archived"
    page = buyer.get("/favourites").get_data(as_text=True)
    assert 'id="favourites-gone"' in page and "真丝围巾" not in page
    buyer.post("/favourites/forget-unavailable")
    with app_session(app) as s:
        assert s.scalar(select(func.count()).select_from(Favourite).where(Favourite.user_id == user["id"])) == 0
    # a product that is not public cannot be saved
    assert _fav(buyer, product).status_code == 404


def test_favourites_need_an_account(app, make_client, firm_b, publish_product):
    product = publish_product(firm_b)
    visitor = make_client()
    assert visitor.get("/favourites").status_code == 302
    assert 'id="favourite-toggle"' not in visitor.get(f"/market/products/{product}").get_data(as_text=True)
    response = visitor.post(f"/favourites/{product}")
    assert response.status_code == 302 and response.headers["Location"].split("?")[0].endswith("/auth/login")
    with app_session(app) as s:
        assert s.scalar(select(func.count()).select_from(Favourite)) == 0  # nothing saved for anyone


def test_compare_up_to_four_side_by_side(make_client, firm_a, firm_b, publish_product):
    ids = [
        publish_product(firm_a, "16姆米真丝双绉", attributes={"momme": "16", "fibre_composition": ["mulberry-silk"]}),
        publish_product(firm_b, "19姆米真丝双绉", attributes={"momme": "19", "fibre_composition": ["mulberry-silk"]}),
        publish_product(firm_b, "22姆米真丝双绉", attributes={"momme": "22", "fibre_composition": ["mulberry-silk"]}),
        publish_product(firm_a, "30姆米真丝双绉", attributes={"momme": "30", "fibre_composition": ["mulberry-silk"]}),
        publish_product(firm_a, "40姆米真丝双绉", attributes={"momme": "30", "fibre_composition": ["mulberry-silk"]}),
    ]
    visitor = make_client()  # no account needed to compare
    assert 'class="empty card"' in visitor.get("/compare").get_data(as_text=True)
    for product_id in ids[:4]:
        assert visitor.post(f"/compare/{product_id}", {"action": "add"}).status_code == 302
    visitor.post(f"/compare/{ids[0]}", {"action": "add"})  # twice is once
    refused = visitor.post(f"/compare/{ids[4]}", {"action": "add"})
    assert refused.status_code == 302
    page = visitor.get("/compare").get_data(as_text=True)
    table = re.search(r'id="compare-table">(.*?)</table>', page, re.S).group(1)
    assert re.findall(r'<th scope="col" data-product="([^"]+)"', table) == [str(i) for i in ids[:4]]
    momme_row = next(r for r in re.findall(r"<tr[^>]*>.*?</tr>", table, re.S) if "姆米" in r and "<td>" in r)
    assert 'class="differs"' in momme_row and momme_row.count("<td>") == 4
    assert "16姆米" in momme_row and "30姆米" in momme_row
    fibre_row = next(r for r in re.findall(r"<tr[^>]*>.*?</tr>", table, re.S) if "桑蚕丝" in r)
    assert 'class="differs"' not in fibre_row  # same everywhere: not highlighted
    # remove one, then the fifth fits
    visitor.post(f"/compare/{ids[1]}", {"action": "remove"})
    visitor.post(f"/compare/{ids[4]}", {"action": "add"})
    table = visitor.get("/compare").get_data(as_text=True)
    assert re.findall(r'<th scope="col" data-product="([^"]+)"', table) == [
        str(i) for i in (ids[0], ids[2], ids[3], ids[4])
    ]


def test_compare_drops_products_that_are_no_longer_public(app, make_client, firm_b, publish_product):
    product = publish_product(firm_b)
    visitor = make_client()
    visitor.post(f"/compare/{product}", {"action": "add"})
    with app_session(app, firm_b.id) as s:
        s.get(Product, (firm_b.id, product)).status = "pending"
    assert "data-product=" not in visitor.get("/compare").get_data(as_text=True)
    assert visitor.post(f"/compare/{product}", {"action": "add"}).status_code == 404
