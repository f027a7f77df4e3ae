"""A page number past the end of a list redirects to its last page, keeping the other arguments, instead of showing
the list's empty state ("nothing here yet") while earlier pages hold rows."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from sqlalchemy import func, select

from saas.models import SearchGapVisit
from tests.conftest import app_session


def _target(response) -> tuple[str, list[tuple[str, str]]]:
    assert response.status_code == 302, response.status_code
    url = urlsplit(response.headers["Location"])
    return url.path, parse_qsl(url.query)


def test_public_lists_go_back_to_their_last_page(app, client, firm_a, publish_product, monkeypatch):
    monkeypatch.setitem(app.config, "PAGE_SIZE", 2)
    for i in range(5):
        publish_product(firm_a, f"真丝双绉{i}")
    assert _target(client.get("/market/search?q=真丝&county=nanhu&sort=moq&page=9")) == (
        "/market/search",
        [("q", "真丝"), ("county", "nanhu"), ("sort", "moq"), ("page", "3")],
    )
    assert client.get("/market/search?q=真丝&county=nanhu&sort=moq&page=3").status_code == 200
    assert _target(client.get("/market/silk/?page=4")) == ("/market/silk/", [("page", "3")])
    assert _target(client.get("/market/search?q=不存在的词&page=2")) == ("/market/search", [("q", "不存在的词")])
    client.get("/market/search?q=不存在的词")
    with app_session(app) as s:  # the miss is logged once, by the page the redirect leads to
        assert (
            s.scalar(select(func.count()).select_from(SearchGapVisit).where(SearchGapVisit.query == "不存在的词")) == 1
        )


def test_signed_in_lists_go_back_to_their_last_page(client, make_client, create_user, firm_a):
    user = create_user("buyer")
    client.login(user["email"])
    for path in ("/rfqs", "/favourites", "/inquiries"):
        assert _target(client.get(f"{path}?page=3")) == (path, []), path
        assert client.get(path).status_code == 200
    supplier = make_client()
    supplier.login(firm_a.owner_email)
    for path in ("/firm/rfqs", "/firm/quotes", "/firm/inquiries"):
        assert _target(supplier.get(f"{path}?show=unanswered&page=2")) == (path, [("show", "unanswered")]), path
