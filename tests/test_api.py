"""The read-only JSON API: search with facets, product detail, JSON errors, and an OpenAPI document that matches."""

from __future__ import annotations

import jsonschema
import pytest

from tests.test_market_search import catalogue  # noqa: F401 - the 314 published fixture products


def test_search_returns_products_and_facets(client, catalogue):  # noqa: F811
    data = client.get("/api/v1/products?q=真丝&per_page=5").get_json()
    assert data["total"] >= 40 and len(data["items"]) == 5 and data["pages"] >= 8
    assert {"category", "county"} <= set(data["facets"])
    first = data["items"][0]
    assert all("真丝" in item["title"]["zh"] for item in data["items"])  # the best matches name the query
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


def _get(client, args):
    from urllib.parse import urlencode

    response = client.get("/api/v1/products?" + urlencode(args))
    assert response.status_code == 200, (args, response.status_code, response.get_data(as_text=True)[:200])
    return response.get_json()


def _walk(client, args, depth, seen):
    """Follow every facet value the API returns; each must be accepted, and its count is the filtered total."""
    data = _get(client, args)
    for name, facets in data["facets"].items():
        if name == "moq" and any(k == "moq" for k, _v in args):
            continue  # a second MOQ range ORs with the first: its count is not the total
        for facet in facets:
            chosen = [(k, v) for k, v in args if k != name and not (name == "category" and k.startswith("a."))]
            chosen.append((name, facet["value"]))
            key = tuple(sorted(chosen))
            if key in seen:
                continue
            seen.add(key)
            assert _get(client, chosen)["total"] == facet["count"], chosen
            if name == "category" and depth:
                _walk(client, chosen, depth - 1, seen)
    for attribute in data["attribute_facets"]:
        for value in attribute["values"]:
            chosen = [*args, (f"a.{attribute['id']}", value["value"])]
            assert _get(client, chosen)["total"] == value["count"], chosen
    if data["verified_count"]:
        assert _get(client, [*args, ("verified", "true")])["total"] == data["verified_count"]
    return data


def test_every_facet_value_the_api_returns_is_accepted_back(client, firm_a, firm_b, publish_product):
    crepe = "silk/silk-fabric/crepe-de-chine"
    publish_product(firm_a, "16姆米真丝双绉", attributes={"momme": "16", "fibre_composition": ["mulberry-silk"]})
    publish_product(firm_a, "22姆米真丝双绉", category=crepe, moq="600")
    publish_product(firm_b, "22姆米桑蚕丝双绉", attributes={"momme": "22", "fibre_composition": ["mulberry-silk"]})
    seen: set = set()
    top = _walk(client, [], 3, seen)
    assert {f["value"] for f in top["facets"]["category"]} == {"silk"}  # industries at the top level
    assert ("category", crepe) in {pair for key in seen for pair in key}  # the walk reached the leaf
    assert any(k.startswith("a.") for key in seen for k, _v in key) or top["attribute_facets"] == []
    leaf = _get(client, [("category", crepe)])
    assert {f["id"] for f in leaf["attribute_facets"]} >= {"momme"}
    _walk(client, [("category", crepe)], 0, set())
    # the industry also has its own parameter, and a category slug wins over it
    assert _get(client, [("industry", "silk")])["total"] == top["total"]
    assert client.get("/api/v1/products?industry=mars").status_code == 400
    assert client.get("/api/v1/products?category=mars").status_code == 400


@pytest.mark.parametrize(("value", "status"), [("1", 200), ("true", 200), ("0", 200), ("false", 200), ("null", 400)])
def test_verified_is_a_boolean(client, value, status):
    response = client.get(f"/api/v1/products?verified={value}")
    assert response.status_code == status and response.is_json


def test_the_openapi_document_names_real_parameters_only(client):
    spec = client.get("/api/openapi.json").get_json()
    parameters = spec["paths"]["/api/v1/products"]["get"]["parameters"]
    names = [p["name"] for p in parameters]
    assert len(names) == len(set(names)) and not any("{" in n or "}" in n for n in names)
    by_name = {p["name"]: p for p in parameters}
    assert by_name["verified"]["schema"] == {"type": "boolean"}
    jsonschema.validate(True, by_name["verified"]["schema"])
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(None, by_name["verified"]["schema"])
    assert "silk" in by_name["industry"]["schema"]["enum"]
    momme = by_name["a.momme"]
    assert momme["in"] == "query" and momme["explode"] is True
    assert {"16-19", "22-30"} <= set(momme["schema"]["items"]["enum"])
    assert "mulberry-silk" in by_name["a.fibre_composition"]["schema"]["items"]["enum"]
    for parameter in parameters:
        assert parameter["in"] == "query" and "schema" in parameter, parameter["name"]
        jsonschema.Draft202012Validator.check_schema(parameter["schema"])
    # every documented attribute parameter is one the API accepts with a category that offers it
    crepe = "silk/silk-fabric/crepe-de-chine"
    for value in momme["schema"]["items"]["enum"]:
        response = client.get(f"/api/v1/products?category={crepe}&a.momme={value}")
        assert response.status_code == 200, value


def test_the_search_page_reads_an_industry_given_as_category(client, firm_a, firm_b, publish_product):
    """A link built from an API facet value (category=silk) filters the web search the same way."""
    import re

    publish_product(firm_a, "双绉真丝面料")
    publish_product(firm_b, "双绉仿真丝面料")

    def count(query: str) -> str:
        return re.search(r'id="result-count">([^<]+)<', client.get(f"/market/search?{query}").get_data(as_text=True))[1]

    assert count("q=双绉&category=silk") == count("q=双绉&industry=silk") == count("q=双绉")
    assert count("q=双绉&category=leather") == count("q=双绉&industry=leather")
    assert count("q=双绉&category=leather") != count("q=双绉")
