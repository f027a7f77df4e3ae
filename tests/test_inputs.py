"""Hostile input everywhere a person types: numbers that are no numbers (NaN, sNaN, Infinity, 1E+400, 1e-400, -0,
NUL …) in every form that posts decimals or integers, and NUL or other control characters in text fields, searches and
API arguments. Never a 500; a refused value gets its localised message next to the field and nothing is stored.

Run on both backends: PostgreSQL refuses a NUL in text outright and infinity in numeric columns, SQLite stores both.
"""

from __future__ import annotations

import io
import itertools
import re
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from config import TestingConfig
from saas.models import Assessment, AssessmentAnswer, Firm, Inquiry, Product, Quote, Rfq
from saas.web.forms import QUANTITY, Bounds, NumberRejected, read_decimal
from tests.conftest import PASSWORD, Client, app_session, grant_pro, valid_uscc

HOSTILE_NUMBERS = [
    "NaN",
    "sNaN",
    "-NaN",
    "Infinity",
    "-Infinity",
    "inf",
    "1E+400",
    "-1E+400",
    "1e-400",
    "1e999999999",
    "9" * 60,
    "1\x00",
    "\x00",
    "0x10",
    "1e",
]
NEGATIVE_ZERO = "-0"
CONTROL_TEXTS = ["嘉兴\x00丝绸", "a\x01b", "\x7f删除"]
_numbers = itertools.count(900_001)


def test_the_shared_parser():
    for text in HOSTILE_NUMBERS:
        with pytest.raises(NumberRejected):
            read_decimal(text, QUANTITY)
    assert read_decimal("-0", Bounds(Decimal(0), Decimal(1), 0)) == 0
    assert not read_decimal("-0", Bounds(Decimal(0), Decimal(1), 0)).is_signed()
    assert read_decimal("１，２３４.５", QUANTITY) == Decimal("1234.5")
    assert read_decimal("1E+2", QUANTITY) == 100 and "E" not in str(read_decimal("1E+2", QUANTITY))
    assert read_decimal(" ", QUANTITY) is None
    assert read_decimal("99,999,999,999.999", QUANTITY) == QUANTITY.high
    cases = [("100000000000", "above_max"), ("0", "below_min"), ("-1E+400", "below_min"), ("1.2345", "too_many_places")]
    cases += [("0.0001", "too_many_places"), ("1e-400", "too_many_places")]  # positive, but finer than the column
    for text, code in cases:
        with pytest.raises(NumberRejected) as refused:
            read_decimal(text, QUANTITY)
        assert refused.value.code == code


@pytest.fixture()
def web(make_app):
    """Clients of an app without rate limits (hundreds of posts from one address), on the test database."""
    other = make_app(TestingConfig, RATELIMIT_ENABLED=False)
    return lambda: Client(other.test_client())


@dataclass
class Form:
    """One form: how to post it with one field replaced, what it stored, and where a field's error is shown."""

    post: Any  # (field, value) -> response
    stored: Any  # () -> comparable snapshot of what the form writes
    error_id: Any = None  # field -> the id of its error element (None: the response is JSON)
    accepts: tuple[int, ...] = (302,)


def _count(app, model, firm_id=None, **where) -> int:
    from saas.core.tenancy import set_staff_scope

    with app_session(app, firm_id) as s:
        set_staff_scope(s, "*")
        stmt = select(func.count()).select_from(model).filter_by(**where).execution_options(all_tenants=True)
        return s.scalar(stmt)


def _registration(app, web, **_):
    client = web()
    name = f"嘉兴输入测试丝绸有限公司{uuid.uuid4().hex[:6]}"

    def post(field, value):
        n = next(_numbers)
        data = {
            "firm_name": name,
            "uscc": valid_uscc(n),
            "industry": "silk",
            "county": "nanhu",
            "employees": "30",
            "revenue_wan": "500",
            "contact_name": "钱丽",
            "owner_name": "钱丽",
            "email": f"owner{n}@inputs.example",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
            field: value,
        }
        response = client.post("/auth/register", data)
        if response.status_code == 302:
            client.logout()
        return response

    return Form(post, lambda: _count(app, Firm, name=name), lambda f: f"{f}-error")


def _profile(app, web, firm_a, **_):
    client = web()
    client.login(firm_a.owner_email)

    def stored():
        with app_session(app, firm_a.id) as s:
            firm = s.get(Firm, firm_a.id)
            return firm.name, firm.employees, firm.revenue_wan, firm.contact_name

    def post(field, value):
        data = {"name": firm_a.name, "employees": "50", "revenue_wan": "800", "contact_name": "张三", field: value}
        return client.post("/firm/profile", data)

    return Form(post, stored, lambda f: f"{f}-error")


def _product(app, web, firm_a, **_):
    from tests.test_market import GOOD

    client = web()
    client.login(firm_a.owner_email)

    def post(field, value):
        return client.post("/firm/products/new", {**GOOD, field: value})

    errors = {"tier0_qty": "tier0-error", "tier0_price": "tier0-error"}
    return Form(post, lambda: _count(app, Product, firm_a.id), lambda f: errors.get(f, f"{f}-error"))


def _buyer(web, create_user):
    user = create_user("buyer")
    client = web()
    client.login(user["email"])
    return client, user


def _rfq(app, web, create_user, **_):
    from tests.test_rfqs import _good_rfq

    client, user = _buyer(web, create_user)

    def post(field, value):
        return client.post("/rfqs/new", _good_rfq(**{field: value}))

    return Form(post, lambda: _count(app, Rfq, buyer_id=user["id"]), lambda f: f"{f}-error")


def _quote(app, web, create_user, firm_b, publish_product, **_):
    from tests.test_rfqs import CREPE, _good_quote, _good_rfq

    buyer, _user = _buyer(web, create_user)
    publish_product(firm_b, category=CREPE)
    opened = buyer.post("/rfqs/new", _good_rfq())
    assert opened.status_code == 302
    rfq_id = uuid.UUID(opened.headers["Location"].rsplit("/", 1)[-1])
    supplier = web()
    supplier.login(firm_b.owner_email)

    def post(field, value):
        return supplier.post(f"/firm/rfqs/{rfq_id}", _good_quote(**{field: value}))

    return Form(post, lambda: _count(app, Quote, rfq_id=rfq_id), lambda f: f"{f}-error")


def _inquiry(app, web, create_user, firm_b, publish_product, **_):
    client, user = _buyer(web, create_user)
    product_id = publish_product(firm_b, "输入测试真丝双绉")

    def post(field, value):
        data = {"body": "请问起订量多少？", "quantity": "100", field: value}
        return client.post(f"/market/products/{product_id}/inquiry", data)

    return Form(post, lambda: _count(app, Inquiry, buyer_id=user["id"]), lambda f: "inquiry-error")


def _kpi_answer(app, web, firm_a, start_assessment, **_):
    assessment_id, questions = start_assessment(firm_a)
    client = web()
    client.login(firm_a.owner_email)
    kpi = next(q for q in questions if q.type == "kpi")

    def post(field, value):
        return client.post(f"/assessments/{assessment_id}/answer", {"question_id": kpi.id, f"q-{kpi.id}": value})

    return Form(post, lambda: _count(app, AssessmentAnswer, firm_a.id), None, (200,))


def _cost_shares(app, web, firm_a, start_assessment, **_):
    assessment_id, _questions = start_assessment(firm_a)
    client = web()
    client.login(firm_a.owner_email)

    def stored():
        with app_session(app, firm_a.id) as s:
            return (s.get(Assessment, (firm_a.id, assessment_id)).profile or {}).get("cost_shares", {})

    def post(field, value):
        response = client.post(f"/assessments/{assessment_id}/review", {field: value})
        if value != "40":
            page = client.get(f"/assessments/{assessment_id}/review").get_data(as_text=True)
            assert "未保存" in page, value  # the warning names what was not saved
        return response

    return Form(post, stored)


def _bulk_import(app, web, firm_a, tmp_path, **_):
    from tests.test_market_bulk import HEAD, _csv, _row

    app.config["IMPORT_UPLOAD_DIR"] = str(tmp_path / "imports")
    grant_pro(app, firm_a.id)  # bulk import is Pro's
    client = web()
    client.login(firm_a.owner_email)

    def post(field, value):
        data = _csv([_row(f"SKU-{next(_numbers)}", **{field: value})], head=[*HEAD, "order_multiple"])
        fields = {"action": "import", "file": (io.BytesIO(data), "p.csv")}
        return client.post("/firm/products/import", fields, content_type="multipart/form-data")

    return Form(post, lambda: _count(app, Product, firm_a.id), "import", (302,))


NUMBER_FORMS = {
    "registration": (_registration, ["employees", "revenue_wan"]),
    "profile": (_profile, ["employees", "revenue_wan"]),
    "product": (_product, ["moq", "order_multiple", "tier0_qty", "tier0_price", "lead_time_days"]),
    "rfq": (_rfq, ["quantity", "target_price"]),
    "quote": (_quote, ["unit_price", "lead_time_days"]),
    "inquiry": (_inquiry, ["quantity"]),
    "kpi_answer": (_kpi_answer, ["value"]),
    "bulk_import": (_bulk_import, ["moq", "order_multiple", "tier1_qty", "tier1_price", "lead_time_days"]),
}


def _refused(form: Form, field: str, response: Any, before: Any, value: str) -> None:
    what = (field, value)
    assert response.status_code < 500, what
    assert response.status_code not in form.accepts, (what, response.status_code)
    if form.error_id is None:
        body = response.get_json()
        assert body["ok"] is False and body["error"], what
    elif form.error_id == "import":
        html = response.get_data(as_text=True)
        # the row's error in that column, or (a NUL byte makes a CSV a binary file) the whole file refused
        # (a price that is no number is reported with its tier, in the tier's quantity column)
        keys = {field, re.sub(r"_price$", "_qty", field)}
        assert any(f'data-key="{key}"' in html for key in keys) or 'id="file-errors"' in html, what
    else:
        html = response.get_data(as_text=True)
        assert f'id="{form.error_id(field)}"' in html, what
    assert form.stored() == before, what


@pytest.fixture()
def form_for(request, app, web, firm_a, firm_b, create_user, publish_product, start_assessment, tmp_path):
    def _make(name: str) -> tuple[Form, list[str]]:
        build, fields = NUMBER_FORMS[name]
        form = build(
            app=app,
            web=web,
            firm_a=firm_a,
            firm_b=firm_b,
            create_user=create_user,
            publish_product=publish_product,
            start_assessment=start_assessment,
            tmp_path=tmp_path,
        )
        return form, fields

    return _make


@pytest.mark.parametrize("name", sorted(NUMBER_FORMS))
def test_numbers_that_are_no_numbers_are_refused_next_to_the_field(form_for, name):
    form, fields = form_for(name)
    for field in fields:
        for value in HOSTILE_NUMBERS:
            before = form.stored()
            _refused(form, field, form.post(field, value), before, value)
        response = form.post(field, NEGATIVE_ZERO)  # zero where zero is allowed, refused where it is not
        assert response.status_code < 500, (field, NEGATIVE_ZERO)


def test_cost_shares_that_are_no_numbers_are_not_saved(app, web, firm_a, start_assessment):
    from saas.assessments.instruments import engine_instrument

    form = _cost_shares(app, web, firm_a, start_assessment)
    with app_session(app, firm_a.id) as s:
        assessment = s.scalar(select(Assessment).where(Assessment.firm_id == firm_a.id))
        category = engine_instrument(assessment.instrument_version).cost_categories[0]
    for value in HOSTILE_NUMBERS:
        response = form.post(f"cost-{category.id}", value)
        assert response.status_code == 302, value
        assert form.stored() == {}, value
    assert form.post(f"cost-{category.id}", "40").status_code == 302 and form.stored() == {category.id: 1.0}


TEXT_FIELDS = {
    "registration": ["firm_name", "email", "contact_name", "owner_name", "park"],
    "profile": ["name", "contact_name"],
    "product": ["title_zh", "title_en", "description_zh", "sku"],
    "rfq": ["title", "description"],
    "quote": ["message"],
    "inquiry": ["body"],
}


@pytest.mark.parametrize("name", sorted(TEXT_FIELDS))
def test_control_characters_in_text_are_refused_next_to_the_field(form_for, name):
    form, _numbers_of_form = form_for(name)
    for field in TEXT_FIELDS[name]:
        for value in CONTROL_TEXTS:
            before = form.stored()
            response = form.post(field, value)
            _refused(form, field, response, before, value)
            assert "控制字符" in response.get_data(as_text=True), (field, value)
    # tab and line breaks are text in a multi-line field
    if name in ("product", "rfq", "quote", "inquiry"):
        field = {"product": "description_zh", "rfq": "description", "quote": "message", "inquiry": "body"}[name]
        before = form.stored()
        response = form.post(field, "第一行：\t说明\r\n第二行：样品")
        assert response.status_code == 302 and form.stored() != before, field


def test_control_characters_in_logins_and_searches_never_fail(client, app, firm_a, make_client, create_user):
    from tests.test_bureau import staff_client

    for email in ("a\x00@b.example", firm_a.owner_email + "\x00"):
        response = client.post("/auth/login", {"email": email, "password": PASSWORD})
        assert response.status_code == 200 and 'id="email-error"' in response.get_data(as_text=True)
        response = client.post("/auth/forgot", {"email": email})
        assert response.status_code == 200 and 'id="email-error"' in response.get_data(as_text=True)
    for url in ("/market/search?q=%E7%9C%9F%E4%B8%9D%00", "/market/search?q=%01", "/market/search?category=%00"):
        assert client.get(url).status_code == 400, url
    api = client.get("/api/v1/products?q=%00")
    assert api.status_code == 400 and api.is_json
    assert client.get("/market/search?q=%E7%9C%9F%E4%B8%9D%09%E4%B8%9D").status_code == 200  # a tab is a space
    staff = staff_client(make_client, create_user)
    assert staff.get("/bureau/?q=%00").status_code == 400


def test_control_characters_in_a_rejection_reason_and_a_note(
    app, make_client, create_user, firm_a, publish_product, quick_submission
):
    from saas.models import AssessorOverride
    from tests.test_bureau import staff_client

    staff = staff_client(make_client, create_user)
    product_id = publish_product(firm_a)
    with app_session(app, firm_a.id) as s:
        s.get(Product, (firm_a.id, product_id)).status = "pending"
    response = staff.post(
        f"/bureau/moderation/{firm_a.id}/{product_id}", {"decision": "reject", "reason": "标题\x00不清"}
    )
    assert response.status_code == 302
    with app_session(app, firm_a.id) as s:
        product = s.get(Product, (firm_a.id, product_id))
        assert product.status == "pending" and product.rejection_reason is None
    assert "控制字符" in staff.get("/bureau/moderation").get_data(as_text=True)
    assessment_id = quick_submission(firm_a, 0.6)
    base = f"/bureau/assessments/{firm_a.id}/{assessment_id}"
    response = staff.post(base + "/override", {"question_id": "st_plan", "status": "approved", "note": "现场\x00核实"})
    assert response.status_code == 302
    assert _count(app, AssessorOverride, firm_a.id) == 0
    assert "控制字符" in staff.get(base).get_data(as_text=True)
    note = "现场核实：\n制度文件齐全"
    assert (
        staff.post(base + "/override", {"question_id": "st_plan", "status": "approved", "note": note}).status_code
        == 302
    )
    assert _count(app, AssessorOverride, firm_a.id) == 1


def test_page_numbers_beyond_any_list_go_to_the_last_page(client, firm_a, publish_product, make_client, create_user):
    """page=99999999999999999999 overflowed PostgreSQL's bigint OFFSET (a 500); now it is read as the last page."""
    from tests.test_bureau import staff_client

    publish_product(firm_a)
    huge = "99999999999999999999"
    for url in (f"/market/silk/?page={huge}", f"/market/search?q=真丝&page={huge}", f"/market/silk/?page={'9' * 5000}"):
        response = client.get(url)
        assert response.status_code == 302 and "page=" not in response.headers["Location"], url
    staff = staff_client(make_client, create_user)
    for url in (f"/bureau/?page={huge}", f"/bureau/moderation?page={huge}", f"/bureau/assessments?page={huge}"):
        assert staff.get(url).status_code in (200, 302), url
