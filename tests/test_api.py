"""The read-only JSON API: search with facets, product detail, JSON errors, and an OpenAPI document that matches."""

from __future__ import annotations

import jsonschema

from tests.test_market_search import catalogue  # noqa: F401 - the 314 published fixture products


def test_search_returns_products_and_facets(client, catalogue):  # noqa: F811
    data = client.get("/api/v1/products?q=真丝&per_page=5").get_json()
    assert data["total"] >= 40 and len(data["items"]) == 5 and data["pages"] >= 8
    assert {"category", "county"} <= set(data["facets"])
    first = data["items"][0]
    assert "真丝" in first["title"]["zh"] or first["title"]["zh"]
    detail = client.get(f"/api/v1/products/{first['id']}").get_json()
    assert detail["id"] == first["id"] and "attributes" in detail and "lead_time_days" in detail


def test_errors_are_json(client, catalogue):  # noqa: F811
    for url in (
        "/api/v1/products?page=0",
        "/api/v1/products?per_page=999",
        "/api/v1/products?sort=random",
        "/api/v1/products?county=mars",
        "/api/v1/products?page=abc",
    ):
        response = client.get(url)
        assert response.status_code == 400 and response.is_json, url
    missing = client.get("/api/v1/products/00000000-0000-0000-0000-000000000000")
    assert missing.status_code == 404 and missing.get_json()["status"] == 404


def test_responses_validate_against_the_openapi_document(client, catalogue):  # noqa: F811
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.") and "/api/v1/products" in spec["paths"]
    page_schema = spec["paths"]["/api/v1/products"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    page = client.get("/api/v1/products?q=丝巾").get_json()
    jsonschema.validate(page, page_schema)
    item_schema = spec["paths"]["/api/v1/products/{product_id}"]["get"]["responses"]["200"]["content"][
        "application/json"
    ]["schema"]
    jsonschema.validate(client.get(f"/api/v1/products/{page['items'][0]['id']}").get_json(), item_schema)


def test_quantities_are_plain_numbers(client, catalogue):  # noqa: F811
    item = client.get("/api/v1/products?q=真丝&per_page=1").get_json()["items"][0]
    assert item["moq"] == "100"  # Decimal('100.000').normalize() would print 1E+2
    page = client.get(f"/market/products/{item['id']}").get_data(as_text=True)
    assert "E+" not in page and "100 米" in page


def test_attribute_and_moq_filters(client, firm_a, publish_product):
    publish_product(firm_a, "16姆米真丝双绉", attributes={"momme": "16", "fibre_composition": ["mulberry-silk"]})
    publish_product(
        firm_a, "22姆米真丝双绉", attributes={"momme": "22", "fibre_composition": ["mulberry-silk"]}, moq="600"
    )
    crepe = "silk/silk-fabric/crepe-de-chine"
    data = client.get(f"/api/v1/products?category={crepe}&a.momme=22-30").get_json()
    assert data["total"] == 1 and data["items"][0]["title"]["zh"] == "22姆米真丝双绉"
    momme = next(f for f in data["attribute_facets"] if f["id"] == "momme")
    assert {v["value"]: v["count"] for v in momme["values"]} == {"16-19": 1, "22-30": 1}
    assert client.get(f"/api/v1/products?category={crepe}&moq=500-1000").get_json()["total"] == 1
    spec = client.get("/api/openapi.json").get_json()
    schema = spec["paths"]["/api/v1/products"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    jsonschema.validate(data, schema)
    for bad in ("a.momme=19-22", f"category={crepe}&a.nothing=1", f"category={crepe}&a.momme=7", "moq=huge"):
        response = client.get(f"/api/v1/products?{bad}")
        assert response.status_code == 400 and response.is_json, bad
