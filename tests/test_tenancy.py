"""Tenant isolation: metadata rules, the fail-closed ORM guard, and the cross-tenant route matrix from url_map."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from saas.core.extensions import db
from saas.core.tenancy import CrossTenantWrite, TenantContextMissing, get_in_tenant_or_404, set_tenant
from saas.models import Base, Invitation, Membership, tenant_models, utcnow
from tests.conftest import app_session

# --- Metadata rules (Citus-ready keys) ------------------------------------------------------------------------


# Cross-tenant public projections (written by database triggers only, readable by everybody): not tenant-scoped.
PUBLIC_READ_MODELS = {"product_listings"}


def test_every_table_with_firm_id_is_tenant_scoped():
    scoped = {m.__tablename__ for m in tenant_models()}
    with_firm_id = {t.name for t in Base.metadata.tables.values() if "firm_id" in t.c}
    assert with_firm_id - PUBLIC_READ_MODELS == scoped
    assert scoped >= {"memberships", "invitations"}


@pytest.mark.parametrize("model", tenant_models(), ids=lambda m: m.__tablename__)
def test_firm_id_leads_primary_and_unique_keys_and_foreign_keys(model):
    table = model.__table__
    assert list(table.primary_key.columns.keys())[0] == "firm_id"
    assert not table.c.firm_id.nullable
    for constraint in table.constraints:
        if constraint.__class__.__name__ == "UniqueConstraint":
            assert "firm_id" in constraint.columns.keys(), constraint.name
    for index in table.indexes:
        if index.unique:
            assert "firm_id" in [c.name for c in index.columns], index.name
    for fk in table.foreign_key_constraints:
        target = fk.referred_table
        if target.name in {m.__tablename__ for m in tenant_models()}:
            assert "firm_id" in fk.column_keys, f"{fk.name} must include firm_id"


# --- ORM guard --------------------------------------------------------------------------------------------------


def test_query_without_tenant_context_raises(app, firm_a):
    with app.test_request_context():
        set_tenant(db.session, None)
        with pytest.raises(TenantContextMissing):
            db.session.scalars(select(Membership)).all()
        with pytest.raises(TenantContextMissing):
            db.session.execute(update(Membership).values(role="member"))
        with pytest.raises(TenantContextMissing):  # an entity only in select_from() is caught too
            db.session.scalar(select(func.count()).select_from(Membership))
        with pytest.raises(TenantContextMissing):
            db.session.scalar(select(func.count()).select_from(select(Membership.id).subquery()))
        db.session.rollback()


def test_queries_only_see_the_current_tenant(app, firm_a, firm_b):
    with app.test_request_context():
        set_tenant(db.session, firm_a.id)
        rows = db.session.scalars(select(Membership)).all()
        assert {m.firm_id for m in rows} == {firm_a.id}
        # joins, aggregates and explicit filters on the other firm see nothing either
        assert db.session.scalar(select(func.count()).select_from(Membership)) == 1
        assert db.session.scalars(select(Membership).where(Membership.firm_id == firm_b.id)).all() == []
        # ORM UPDATE is scoped too
        db.session.execute(update(Membership).values(role="member"), execution_options={"synchronize_session": False})
        set_tenant(db.session, firm_b.id)
        assert db.session.scalar(select(Membership.role)) == "owner"
        db.session.rollback()


def test_identity_map_hit_does_not_bypass_scoped_getter(app, firm_a, firm_b):
    with app.test_request_context():
        set_tenant(db.session, firm_b.id)
        b_membership = db.session.scalar(select(Membership))  # now in the identity map
        set_tenant(db.session, firm_a.id)
        from werkzeug.exceptions import NotFound

        with pytest.raises(NotFound):
            get_in_tenant_or_404(db.session, Membership, b_membership.id, firm_a.id)
        db.session.rollback()


def test_flush_stamps_tenant_and_refuses_cross_tenant_writes(app, firm_a, firm_b):
    with app.test_request_context():
        set_tenant(db.session, firm_a.id)
        invitation = Invitation(email="x@example.com", role="member", token_hash="a" * 64, expires_at=utcnow())
        db.session.add(invitation)
        db.session.flush()
        assert invitation.firm_id == firm_a.id
        db.session.add(
            Invitation(
                firm_id=firm_b.id, email="y@example.com", role="member", token_hash="b" * 64, expires_at=utcnow()
            )
        )
        with pytest.raises(CrossTenantWrite):
            db.session.flush()
        db.session.rollback()
    with app.test_request_context():
        set_tenant(db.session, None)
        db.session.add(Invitation(email="z@example.com", role="member", token_hash="c" * 64, expires_at=utcnow()))
        with pytest.raises(TenantContextMissing):
            db.session.flush()
        db.session.rollback()


# --- Cross-tenant route matrix ----------------------------------------------------------------------------------


# Every URL argument that names a firm-owned row, and how to make such a row in firm B.
def _b_invitation(app, firm_b):
    with app_session(app, firm_b.id) as s:
        inv = Invitation(
            firm_id=firm_b.id,
            email="colleague@b.example",
            role="member",
            token_hash=uuid.uuid4().hex * 2,
            expires_at=utcnow() + timedelta(days=1),
        )
        s.add(inv)
        s.flush()
        return inv.id


def _b_membership(app, firm_b):
    with app_session(app, firm_b.id) as s:
        return s.scalar(select(Membership.id).where(Membership.firm_id == firm_b.id))


def _b_assessment(app, firm_b):
    from saas.assessments import services
    from saas.models import Firm, User

    with app_session(app, firm_b.id) as s:
        firm, owner = s.get(Firm, firm_b.id), s.get(User, firm_b.owner_id)
        return services.start_assessment(s, firm, owner, utcnow().date()).id


def _b_evidence(app, firm_b):
    from saas.models import Evidence

    assessment_id = _b_assessment(app, firm_b)
    with app_session(app, firm_b.id) as s:
        ev = Evidence(
            firm_id=firm_b.id,
            assessment_id=assessment_id,
            question_id="st_plan",
            original_name="b.pdf",
            stored_name="0" * 32 + ".pdf",
            content_type="application/pdf",
            size=1,
            sha256="0" * 64,
        )
        s.add(ev)
        s.flush()
        return {"assessment_id": assessment_id, "evidence_id": ev.id}


def _assessment_args(app, firm_b):
    return {"assessment_id": _b_assessment(app, firm_b), "number": 1}


def _b_report_job(app, firm_b):
    from saas.models import ReportJob

    assessment_id = _b_assessment(app, firm_b)
    with app_session(app, firm_b.id) as s:
        job = ReportJob(
            firm_id=firm_b.id,
            kind="firm_report",
            assessment_id=assessment_id,
            content_key="k" * 64,
            locale="zh_CN",
            status="failed",
        )
        s.add(job)
        s.flush()
        return {"assessment_id": assessment_id, "job_id": job.id}


def _b_product(app, firm_b):
    from decimal import Decimal

    from saas.models import Product

    with app_session(app, firm_b.id) as s:
        product = Product(
            firm_id=firm_b.id,
            industry="leather",
            category_slug="leather/x",
            title_zh="乙公司头层牛皮",
            sale_unit="m",
            moq=Decimal(1),
            lead_time_days=5,
            status="draft",
        )
        s.add(product)
        s.flush()
        return {"product_id": product.id}


def _b_image(app, firm_b):
    from saas.models import ProductImage

    args = _b_product(app, firm_b)
    with app_session(app, firm_b.id) as s:
        image = ProductImage(
            firm_id=firm_b.id,
            product_id=args["product_id"],
            name="0" * 32,
            extension=".jpg",
            content_type="image/jpeg",
            width=10,
            height=10,
        )
        s.add(image)
        s.flush()
        return {**args, "image_id": image.id, "size": "thumb"}


def _b_inquiry(app, firm_b):
    from saas.models import Inquiry, InquiryMessage, User

    args = _b_product(app, firm_b)
    with app_session(app) as s:
        buyer = User(email=f"b{uuid.uuid4().hex[:8]}@buyer.example", name="买家", password_hash="x", kind="buyer")
        s.add(buyer)
        s.flush()
        buyer_id = buyer.id
    with app_session(app, firm_b.id) as s:
        inquiry = Inquiry(firm_id=firm_b.id, product_id=args["product_id"], buyer_id=buyer_id, subject="乙公司询盘")
        s.add(inquiry)
        s.flush()
        s.add(InquiryMessage(firm_id=firm_b.id, inquiry_id=inquiry.id, from_supplier=False, body="询价"))
        return {"inquiry_id": inquiry.id}


def _b_rfq(app, firm_b):
    """An RFQ of firm B's owner (buying) in a category only firm B supplies."""
    from datetime import timedelta
    from decimal import Decimal

    from saas.models import Product, Rfq, utcnow

    with app_session(app, firm_b.id) as s:
        s.add(
            Product(
                firm_id=firm_b.id,
                industry="leather",
                category_slug="leather/materials",
                title_zh="乙公司头层牛皮",
                sale_unit="sqft",
                moq=Decimal(1),
                lead_time_days=5,
                status="published",
                published_at=utcnow(),
            )
        )
        rfq = Rfq(
            buyer_id=firm_b.owner_id,
            industry="leather",
            category_slug="leather/materials",
            title="乙公司询价",
            description="头层牛皮，需检测报告。",
            quantity=Decimal(10),
            unit="sqft",
            deadline=utcnow() + timedelta(days=7),
        )
        s.add(rfq)
        s.flush()
        return {"rfq_id": rfq.id}


def _b_programme_application(app, firm_b):
    from tests.programme.programme_support import draft_application, make_round

    return draft_application(app, firm_b, make_round(app))


# Every route whose URL names a firm-owned row, and how to make such rows in firm B (all URL arguments).
TENANT_ROUTES = {
    "orgs.revoke_invitation": lambda app, b: {"invitation_id": _b_invitation(app, b)},
    "orgs.change_role": lambda app, b: {"membership_id": _b_membership(app, b)},
    "orgs.remove_member": lambda app, b: {"membership_id": _b_membership(app, b)},
    "orgs.switch": lambda app, b: {"firm_id": b.id},
    "assessments.resume": _assessment_args,
    "assessments.step": _assessment_args,
    "assessments.autosave": _assessment_args,
    "assessments.upload_evidence": _assessment_args,
    "assessments.review": _assessment_args,
    "assessments.submit": _assessment_args,
    "assessments.results": _assessment_args,
    "assessments.download_evidence": _b_evidence,
    "benchmarking.report_page": _assessment_args,
    "products.edit": _b_product,
    "products.submit": _b_product,
    "products.archive": _b_product,
    "products.upload_image": _b_product,
    "products.delete_image": _b_image,
    "products.own_image": _b_image,
    "benchmarking.request_pdf": _assessment_args,
    "benchmarking.pdf_status": _b_report_job,
    "benchmarking.pdf_file": _b_report_job,
    "benchmarking.pdf_retry": _b_report_job,
    "assessments.delete_evidence": _b_evidence,
    "inquiries.supplier_thread": _b_inquiry,
    "rfqs.detail": _b_rfq,
    "rfqs.accept": _b_rfq,
    "rfqs.cancel": _b_rfq,
    "rfqs.firm_detail": _b_rfq,
    "programme.application": lambda app, b: {"application_id": _b_programme_application(app, b)},
    "programme.withdraw": lambda app, b: {"application_id": _b_programme_application(app, b)},
}
# Routes whose ids are not firm-owned rows, with the test that covers their access rule.
STAFF_SCOPED = "test_bureau_assessments.py: staff outside the firm's county get 404; drafts are 404"
OTHER_ID_ROUTES = {
    ("account.revoke_session", "session_id"): "test_account.py: another user's session is a 404",
    ("bureau.assessment_detail", "firm_id"): STAFF_SCOPED,
    ("bureau.assessment_detail", "assessment_id"): STAFF_SCOPED,
    ("bureau.assessment_evidence", "firm_id"): STAFF_SCOPED,
    ("bureau.assessment_evidence", "assessment_id"): STAFF_SCOPED,
    ("bureau.assessment_evidence", "evidence_id"): STAFF_SCOPED,
    ("bureau.override_answer", "firm_id"): STAFF_SCOPED,
    ("bureau.override_answer", "assessment_id"): STAFF_SCOPED,
    ("bureau.verify_assessment", "firm_id"): STAFF_SCOPED,
    ("bureau.verify_assessment", "assessment_id"): STAFF_SCOPED,
    ("bureau.firm_detail", "firm_id"): "test_bureau.py: county-scoped staff get 404 outside their county",
    ("bureau.verify_firm", "firm_id"): "test_bureau.py: county-scoped staff get 404 outside their county",
    ("auth.accept_invitation", "firm_id"): "test_orgs.py: the secret token must match the firm's invitation",
    ("auth.verify_email", "token"): "test_auth.py: single-use hashed token",
    ("auth.reset_password", "token"): "test_auth.py: single-use hashed token",
    ("auth.accept_invitation", "token"): "test_orgs.py: the secret token must match the firm's invitation",
    ("static", "filename"): "public static files",
    ("market.product", "product_id"): "test_market.py: only published products are public; drafts are 404",
    ("api.product", "product_id"): "test_api.py + test_market.py: only published products are served",
    ("market.image", "image_id"): "test_market_images.py: photos of unpublished products are 404",
    ("market.image", "firm_id"): "test_market_images.py: a photo under another firm's id is 404",
    ("market.image", "size"): "rendition name",
    ("market.supplier", "firm_id"): "test_market.py: the public supplier page shows published products only",
    ("market.browse", "industry"): "public catalogue path",
    ("market.browse", "path"): "public catalogue path",
    ("inquiries.new", "product_id"): "test_inquiries.py: published products only; a firm's own products are refused",
    ("inquiries.buyer_thread", "inquiry_id"): "test_inquiries.py: another buyer's thread is a 404",
    ("sourcing.toggle_favourite", "product_id"): "test_sourcing.py: only published products can be saved",
    ("sourcing.compare_toggle", "product_id"): "test_sourcing.py: only published products can be compared",
    ("bureau.moderate", "firm_id"): "test_market.py: county staff get 404 outside their county",
    ("bureau.moderate", "product_id"): "test_market.py: county staff get 404 outside their county",
    **{
        (endpoint, "round_id"): "tests/programme/test_programme_rounds.py: rounds are the bureau's; drafts are 404 "
        "to the public and firms, and only city staff change them"
        for endpoint in (
            "programme.method",
            "programme.eligibility",
            "programme.apply",
            "programme.autosave",
            "programme.edit_round",
            "programme.advance",
            "programme.staff_round",
            "programme.assign",
            "programme.ranking",
            "programme.decide",
            "programme.publicity",
            "programme.final_pdf",
            "programme.final_xlsx",
        )
    },
    ("programme.confirm_decision", "round_id"): "tests/programme/test_programme_decision.py: city staff only, and "
    "never the recorder",
    ("programme.confirm_decision", "decision_id"): "tests/programme/test_programme_decision.py: a decision of "
    "another round is 404",
    ("programme.answer_objection", "round_id"): "tests/programme/test_programme_decision.py: city staff only",
    ("programme.answer_objection", "objection_id"): "tests/programme/test_programme_decision.py: an objection of "
    "another round is 404",
    ("programme.lodge_objection", "round_id"): "tests/programme/test_programme_decision.py: public, throttled; "
    "only rounds in 公示",
    ("programme.lodge_objection", "application_id"): "tests/programme/test_programme_decision.py: only an entry "
    "selected in the confirmed decision",
    **{
        (endpoint, arg): "tests/programme/test_programme_experts.py: an expert gets 404 for any assignment not "
        "their own (looked up by (id, expert_id) across tenants; no firm id in an expert's URL, blind review); "
        "firms and staff get 403"
        for endpoint in ("programme.review", "programme.declare_conflict")
        for arg in ("assignment_id",)
    },
    ("programme.staff_application", "firm_id"): "tests/programme/test_programme_pre_review.py: county staff get "
    "404 outside their county; drafts are 404",
    ("programme.staff_application", "application_id"): "tests/programme/test_programme_pre_review.py: an id under "
    "another firm's id is 404",
    **{
        ("programme.follow_up", arg): "tests/programme/test_programme_follow_up.py: city staff only; county staff "
        "404; an id under another firm's id is 404"
        for arg in ("firm_id", "application_id")
    },
    ("billing.checkout", "product"): "a product key from the server's allow-list, not a row (tests/billing)",
}


def _routes_with_ids(app):
    for rule in app.url_map.iter_rules():
        for arg in sorted(rule.arguments):
            yield rule, arg


def test_every_route_with_an_id_is_classified(app):
    unknown = [
        f"{rule.endpoint}:{arg}"
        for rule, arg in _routes_with_ids(app)
        if rule.endpoint not in TENANT_ROUTES and (rule.endpoint, arg) not in OTHER_ID_ROUTES
    ]
    assert unknown == [], "add these routes to the cross-tenant matrix"


@pytest.mark.parametrize("endpoint", sorted(TENANT_ROUTES))
def test_firm_a_gets_404_for_firm_b_ids_on_every_method(app, client, firm_a, firm_b, endpoint):
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    args = TENANT_ROUTES[endpoint](app, firm_b)
    client.login(firm_a.owner_email)
    url = rule.build({k: v for k, v in args.items() if k in rule.arguments})[1]
    for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
        if method == "GET":
            response = client.get(url)
        else:
            response = client.post(url, {"role": "member"})
        assert response.status_code == 404, f"{method} {url} -> {response.status_code}"
    # and nothing of firm B changed
    with app_session(app, firm_b.id) as s:
        roles = s.scalars(select(Membership.role)).all()
        assert roles == ["owner"]
        assert all(inv.revoked_at is None for inv in s.scalars(select(Invitation)))
