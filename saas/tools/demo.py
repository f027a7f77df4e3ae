"""Realistic demo data: about 200 Jiaxing firms with valid USCCs, buyers, bureau staff and a platform admin."""

from __future__ import annotations

import random
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

import scoring
from saas.assessments import instruments, services
from saas.auth.services import create_user
from saas.benchmarking.services import refresh
from saas.billing.demo import seed_billing
from saas.core.extensions import db
from saas.core.links import public_request_context
from saas.core.security import hash_password, new_totp_secret, totp_uri
from saas.core.tenancy import set_tenant
from saas.marketplace import services as market
from saas.marketplace.catalog import default_catalog
from saas.models import Assessment, AssessmentAnswer, Firm, Inquiry, InquiryMessage, Membership, Product, User, utcnow
from saas.programme import demo as programme_demo
from saas.reference import DIVISION_CODES, PARKS, USCC_ALPHABET, org_code_check_char, size_class, uscc_check_char
from saas.rfqs import services as rfqs

DEMO_PASSWORD = "Jiaxing-demo-2026"
DEMO_DOMAIN = "demo.jx.example"
# Fixed demo TOTP secrets, so that the README can tell testers how to get a code (`flask totp-now EMAIL`).
DEMO_STAFF = (
    ("staff@" + DEMO_DOMAIN, "王建国", None, False, "JXDEMOCITYSTAFFJXDEMOCITYSTAFF22"),
    ("haining.staff@" + DEMO_DOMAIN, "陈海宁", "haining", False, "JXDEMOHAININGSTAFFJXDEMOHAINING2"),
    ("admin@" + DEMO_DOMAIN, "平台管理员", None, True, "JXDEMOPLATFORMADMINJXDEMOADMIN22"),
)

# Industry mix follows the clusters the plan names: Haining leather and warp knitting, Tongxiang knitwear and
# silk, Pinghu luggage, Jiashan wood, Xiuzhou textiles.
COUNTY_INDUSTRIES = {
    "nanhu": ["textile", "garment", "silk", "other"],
    "xiuzhou": ["textile", "garment", "warp_knitting", "silk"],
    "jiashan": ["wood", "wood", "textile", "other"],
    "pinghu": ["luggage", "luggage", "garment", "textile"],
    "haiyan": ["textile", "wood", "other", "garment"],
    "haining": ["leather", "leather", "warp_knitting", "warp_knitting", "textile"],
    "tongxiang": ["silk", "silk", "garment", "textile", "warp_knitting"],
}
PLACE = {
    "nanhu": ["嘉兴", "南湖", "凤桥", "新丰"],
    "xiuzhou": ["秀洲", "王江泾", "洪合", "油车港"],
    "jiashan": ["嘉善", "姚庄", "西塘", "干窑"],
    "pinghu": ["平湖", "新埭", "当湖", "独山"],
    "haiyan": ["海盐", "澉浦", "沈荡", "通元"],
    "haining": ["海宁", "许村", "马桥", "长安"],
    "tongxiang": ["桐乡", "濮院", "乌镇", "崇福"],
}
BRAND = list("华恒丰达鑫盛隆源泰兴宏美嘉新金银锦绣天润瑞祥永安康富")
TRADE = {
    "silk": ["丝绸", "茧丝", "真丝织造", "丝绸科技"],
    "warp_knitting": ["经编", "经编科技", "经编织造"],
    "textile": ["纺织", "印染", "化纤纺织", "纺织科技"],
    "garment": ["服饰", "服装", "时装", "针织服饰"],
    "leather": ["皮革", "皮业", "皮草", "裘革"],
    "luggage": ["箱包", "旅游用品", "箱包制造"],
    "wood": ["木业", "家具", "木制品", "地板"],
    "other": ["机电", "电子", "新材料", "包装"],
}
SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何沈沈钱")
GIVEN = ["伟", "芳", "建华", "丽娟", "国强", "海燕", "志明", "秀英", "晓东", "敏", "俊杰", "雪梅", "立新", "春燕"]


def make_uscc(rng: random.Random, county: str) -> str:
    """Return a valid USCC for an enterprise (91) registered in ``county``."""
    body = "".join(rng.choice(USCC_ALPHABET[:10] + "ABCDEFGHJKLMNPQRTUWXY") for _ in range(8))
    first17 = "91" + DIVISION_CODES[county] + body + org_code_check_char(body)
    return first17 + uscc_check_char(first17)


def _size_sample(rng: random.Random) -> tuple[int, Decimal]:
    kind = rng.choices(["micro", "small", "medium", "large"], weights=[25, 45, 25, 5])[0]
    employees, revenue = {
        "micro": (rng.randint(3, 19), rng.uniform(50, 280)),
        "small": (rng.randint(20, 299), rng.uniform(300, 1900)),
        "medium": (rng.randint(300, 999), rng.uniform(2000, 39000)),
        "large": (rng.randint(1000, 4000), rng.uniform(40000, 200000)),
    }[kind]
    return employees, Decimal(f"{revenue:.2f}")


def create_staff_user(
    dbs: Session, *, email: str, name: str, county: str | None, admin: bool, password: str, secret: str | None = None
) -> tuple[User, str]:
    """Create a staff member or admin with TOTP enrolled; return the user and the authenticator URI."""

    user = create_user(
        dbs, email=email, name=name, password=password, kind="admin" if admin else "staff", county=county
    )
    user.email_verified_at = utcnow()
    user.totp_secret = secret or new_totp_secret()
    user.totp_enabled = True
    return user, totp_uri(user, user.totp_secret)


def seed(firms: int = 200, seed_value: int = 2026) -> bool:
    """Load the demo data unless it is already there; return whether anything was created."""
    dbs = db.session
    if dbs.scalar(select(User.id).where(User.email == "staff@" + DEMO_DOMAIN)) is not None:
        return False
    rng = random.Random(seed_value)
    password_hash = hash_password(DEMO_PASSWORD)  # one hash for every demo account keeps seeding fast
    now = utcnow()
    for email, name, county, admin, secret in DEMO_STAFF:
        create_staff_user(
            dbs, email=email, name=name, county=county, admin=admin, password=DEMO_PASSWORD, secret=secret
        )
    for i in range(1, 11):
        dbs.add(
            User(
                email=f"buyer{i:02d}@{DEMO_DOMAIN}",
                name=rng.choice(SURNAMES) + rng.choice(GIVEN),
                password_hash=password_hash,
                kind="buyer",
                email_verified_at=now,
            )
        )
    counties = list(COUNTY_INDUSTRIES)
    names: set[str] = set()
    usccs: set[str] = set()
    for i in range(1, firms + 1):
        county = counties[(i - 1) % len(counties)]
        industry = rng.choice(COUNTY_INDUSTRIES[county])
        name = ""
        while not name or name in names:
            brand = rng.choice(BRAND) + rng.choice(BRAND)
            name = f"{rng.choice(PLACE[county])}{brand}{rng.choice(TRADE[industry])}有限公司"
        names.add(name)
        uscc = make_uscc(rng, county)
        while uscc in usccs:
            uscc = make_uscc(rng, county)
        usccs.add(uscc)
        employees, revenue = _size_sample(rng)
        contact = rng.choice(SURNAMES) + rng.choice(GIVEN)
        firm = Firm(
            name=name,
            uscc=uscc,
            industry=industry,
            county=county,
            park=rng.choice(PARKS[county]) if rng.random() < 0.8 else None,
            employees=employees,
            revenue_wan=revenue,
            size_class=size_class(employees, revenue),
            contact_name=contact,
            contact_phone=f"0573-8{rng.randint(1000000, 9999999)}",
            verified_at=now if rng.random() < 0.6 else None,
        )
        owner = User(
            email=f"owner{i:03d}@{DEMO_DOMAIN}",
            name=contact,
            password_hash=password_hash,
            kind="firm",
            email_verified_at=now,
        )
        dbs.add_all([firm, owner])
        dbs.flush()
        set_tenant(dbs, firm.id, owner.id)
        dbs.add(Membership(firm_id=firm.id, user_id=owner.id, role="owner"))
        dbs.flush()
    dbs.flush()
    seed_assessments(dbs, rng)
    seed_products(dbs, rng)
    seed_inquiries(dbs, rng)

    with public_request_context(current_app):  # links in the emails
        seed_rfqs(dbs, rng)

        programme_demo.seed_programme(dbs, rng, password_hash)

    seed_billing(dbs, dbs.scalar(select(User).where(User.email == "staff@" + DEMO_DOMAIN)), DEMO_DOMAIN, now)
    set_tenant(dbs, None)
    dbs.commit()
    return True


COUNTY_NAMES = {
    "nanhu": "南湖区",
    "xiuzhou": "秀洲区",
    "jiashan": "嘉善县",
    "pinghu": "平湖市",
    "haiyan": "海盐县",
    "haining": "海宁市",
    "tongxiang": "桐乡市",
}
ADJECTIVES = ["厂家直销", "现货供应", "高品质", "外贸出口", "新款", "定制", "批发", "源头工厂", "品牌代工", "环保"]


def _demo_attribute(attr: Any, rng: random.Random) -> Any:
    if attr.type == "number":
        low = float(attr.min) if attr.min is not None else 1.0
        high = float(attr.max) if attr.max is not None else 100.0
        step = float(attr.step or 1)
        value = round(rng.uniform(low, low + (high - low) * 0.6) / step) * step
        return f"{max(low, min(high, value)):g}"
    if attr.type == "enum":
        return rng.choice(attr.options).id
    if attr.type == "multi_enum":
        return [o.id for o in rng.sample(list(attr.options), min(len(attr.options), rng.randint(1, 2)))]
    return "详见产品说明"


def seed_products(dbs: Session, rng: random.Random, per_firm: tuple[int, int] = (4, 9)) -> int:
    """Publish a realistic catalogue for the demo firms of the seven industries (about 1,200 products)."""

    catalog = default_catalog()
    staff = dbs.scalar(select(User).where(User.email == "staff@" + DEMO_DOMAIN))
    count = 0
    for firm in dbs.scalars(select(Firm).where(Firm.industry != "other").order_by(Firm.created_at, Firm.uscc)).all():
        set_tenant(dbs, firm.id)
        owner = dbs.scalar(
            select(User).join(Membership, Membership.user_id == User.id).where(Membership.role == "owner")
        )
        leaves = [c for c in catalog.leaves() if c.industry == firm.industry]
        for _ in range(rng.randint(*per_firm)):
            leaf = rng.choice(leaves)
            template = catalog.attributes_for(leaf.slug)
            attributes = {a.id: _demo_attribute(a, rng) for a in template if a.required or rng.random() < 0.6}
            units = catalog.sale_units_for(leaf.slug)
            moq = rng.choice([1, 10, 50, 100, 200, 500, 1000])
            price = round(rng.uniform(5, 800), 1)
            data = market.ProductInput(
                category_slug=leaf.slug,
                title_zh=f"{rng.choice(ADJECTIVES)}{leaf.label.zh}",
                title_en=f"{leaf.label.en}",
                description_zh=f"{firm.name}生产，{COUNTY_NAMES.get(firm.county, '')}发货，可按需定制。",
                sale_unit=rng.choice(units).id,
                moq=str(moq),
                tiers=[(str(moq), str(price)), (str(moq * 10), str(round(price * 0.9, 1)))],
                price_on_request=rng.random() < 0.1,
                samples_available=rng.random() < 0.6,
                lead_time_days=str(rng.choice([3, 7, 10, 15, 20, 30, 45])),
                attributes=attributes,
            )
            cleaned = market.clean(data)
            if cleaned.errors:
                continue
            product = market.save_product(dbs, firm, owner, None, cleaned)
            market.submit_for_review(dbs, firm, owner, product)
            if rng.random() < 0.9 and staff is not None:
                market.moderate(dbs, staff, firm, product, approve=True, reason=None)
            count += 1
        dbs.flush()
    return count


QUESTIONS = [
    "您好，请问{qty}的量最快多久能交货？",
    "能否先寄样品？样品费用怎么算？",
    "请问可以按我们的色卡打色吗？起订量是多少？",
    "我们是外贸公司，需要提供检测报告，可以吗？",
    "请报一下含税含运费到上海的价格。",
]
ANSWERS = [
    "您好，现货可以三天内发出，大货约15天。",
    "样品免费，运费到付，今天可以寄出。",
    "可以打色，打色周期5到7天，起订量不变。",
    "可以提供SGS检测报告，稍后发您邮箱。",
]


def seed_inquiries(dbs: Session, rng: random.Random) -> int:
    """Buyers' inquiries over the last 60 days, most answered within hours: supplier pages show response figures."""

    buyers = list(dbs.scalars(select(User).where(User.kind == "buyer").order_by(User.email)))
    now = utcnow()
    count = 0
    for firm in dbs.scalars(select(Firm).order_by(Firm.created_at, Firm.uscc)).all():
        set_tenant(dbs, firm.id)
        products = list(dbs.scalars(select(Product).where(Product.status == "published").order_by(Product.created_at)))
        if not products or rng.random() < 0.3:
            continue
        diligence = rng.choice([0.95, 0.9, 0.8, 0.6, 0.3])  # how reliably this supplier answers
        for _ in range(rng.randint(2, 9)):
            product = rng.choice(products)
            asked = now - timedelta(hours=rng.uniform(30, 60 * 24))
            answered = (
                asked + timedelta(hours=rng.choice([0.3, 1, 2, 4, 8, 20, 40])) if rng.random() < diligence else None
            )
            inquiry = Inquiry(
                firm_id=firm.id,
                product_id=product.id,
                buyer_id=rng.choice(buyers).id,
                subject=product.title_zh[:160],
                quantity=product.moq * rng.choice([1, 2, 5, 10]),
                created_at=asked,
                last_message_at=answered or asked,
                first_response_at=answered,
                buyer_read_at=answered or asked,
                supplier_read_at=answered,
            )
            dbs.add(inquiry)
            dbs.flush()
            unit = default_catalog().sale_unit(product.sale_unit).label.zh
            question = rng.choice(QUESTIONS).format(qty=f"{inquiry.quantity.normalize():f}{unit}")
            dbs.add(
                InquiryMessage(
                    firm_id=firm.id, inquiry_id=inquiry.id, from_supplier=False, body=question, created_at=asked
                )
            )
            if answered is not None:
                dbs.add(
                    InquiryMessage(
                        firm_id=firm.id,
                        inquiry_id=inquiry.id,
                        from_supplier=True,
                        body=rng.choice(ANSWERS),
                        created_at=answered,
                    )
                )
            count += 1
        dbs.flush()
    return count


RFQ_NEEDS = [
    ("采购{label}，需提供检测报告", "用于外贸订单，要求环保达标，分批交货，请报含税价。"),
    ("求购{label}一批", "长期合作，先打样确认，质量稳定可追加订单。"),
    ("{label}年度框架采购", "年用量较大，请说明产能、交期和付款方式。"),
]


def seed_rfqs(dbs: Session, rng: random.Random, count: int = 24) -> int:
    """Open quote requests from the demo buyers, with quotes from matching suppliers (some awarded)."""

    catalog = default_catalog()
    buyers = list(dbs.scalars(select(User).where(User.kind == "buyer").order_by(User.email)))
    set_tenant(dbs, None)
    offered = dbs.execute(
        select(Product.category_slug, Product.firm_id)
        .where(Product.status == "published")
        .order_by(Product.category_slug, Product.firm_id)
        .execution_options(all_tenants=True)
    ).all()
    suppliers: dict[str, list] = {}
    for slug, firm_id in offered:
        if firm_id not in suppliers.setdefault(slug, []):
            suppliers[slug].append(firm_id)
    slugs = sorted(s for s, firms in suppliers.items() if len(firms) >= 2)
    now = utcnow()
    made = 0
    for _ in range(min(count, len(slugs))):
        slug = rng.choice(slugs)
        label = catalog.category(slug).label.zh
        title, description = rng.choice(RFQ_NEEDS)
        buyer = rng.choice(buyers)
        set_tenant(dbs, None, buyer.id)
        unit = catalog.sale_units_for(slug)[0].id
        rfq = rfqs.create_rfq(
            dbs,
            buyer,
            rfqs.RfqInput(
                category_slug=slug,
                title=title.format(label=label)[:120],
                description=description,
                quantity=Decimal(rng.choice([500, 1000, 3000, 10000])),
                unit=unit,
                target_price=Decimal(rng.randint(10, 300)) if rng.random() < 0.6 else None,
                deadline=now + timedelta(days=rng.randint(3, 30)),
            ),
            now=now - timedelta(days=rng.randint(0, 10)),
            daily_limit=10_000,
            max_quotes=10,
        )
        quotes = []
        for firm_id in rng.sample(suppliers[slug], min(len(suppliers[slug]), rng.randint(1, 4))):
            firm = dbs.get(Firm, firm_id)
            set_tenant(dbs, firm.id)
            owner = dbs.scalar(
                select(User).join(Membership, Membership.user_id == User.id).where(Membership.role == "owner")
            )
            quotes.append(
                rfqs.submit_quote(
                    dbs,
                    firm,
                    owner,
                    rfq.id,
                    rfqs.QuoteInput(
                        unit_price=Decimal(rng.randint(8, 280)),
                        lead_time_days=rng.choice([7, 10, 15, 20, 30]),
                        valid_until=date.today() + timedelta(days=30),
                        message="可提供样品，价格含税不含运费。",
                    ),
                    now=now,
                )
            )
        if quotes and rng.random() < 0.25:
            set_tenant(dbs, None, buyer.id)
            rfqs.accept_quote(dbs, buyer, rfq.id, quotes[0].id, now=now)
        made += 1
    set_tenant(dbs, None)
    return made


def demo_answer(question: Any, level: float, rng: random.Random) -> Any:
    """Return a plausible answer for a firm whose informatization propensity is ``level`` (0–1)."""

    def pick(n: int) -> int:
        return max(0, min(n - 1, round(rng.gauss(level * (n - 1), 0.8))))

    kind = question.type
    if kind == "single":
        options = sorted(question.options, key=lambda o: o.value)
        return options[pick(len(options))].id
    if kind == "requirement":
        return ("none", "partly", "mostly", "fully")[pick(4)]
    if kind == "multi":
        plain = [o.id for o in question.options if not o.exclusive]
        chosen = [oid for oid in plain if rng.random() < level]
        exclusive = [o.id for o in question.options if o.exclusive]
        return chosen or exclusive[:1] or plain[:1]
    if kind == "adoption":
        return {r.id: pick(6) for r in question.rows}
    if kind == "tri_state":
        return {r.id: ("no", "partly", "yes")[pick(3)] for r in question.rows}
    if kind == "in_use_planned":
        return {r.id: ("none", "planned", "in_use", "both")[pick(4)] for r in question.rows}
    low, high = question.value_range or (0.0, 100.0)
    if kind == "kpi":
        xs = [x for x, _y in question.anchors] or [low, high]
        share = min(1.0, max(0.0, rng.gauss(level, 0.15)))
        return round(min(high, max(low, xs[0] + (xs[-1] - xs[0]) * share)), 1)
    baseline = round(rng.uniform(max(low, 10), max(low + 10, high / 2)), 1)
    better = question.direction != "lower_better"
    change = 1 + (rng.uniform(-0.05, 0.3) if better else -rng.uniform(-0.05, 0.3))
    return {"baseline": baseline, "current": round(min(high, max(low, baseline * change)), 1)}


def seed_assessments(dbs: Session, rng: random.Random, share: float = 0.7) -> int:
    """Give about ``share`` of the demo firms a submitted assessment (some two rounds, some verified)."""

    version = instruments.active_instrument(dbs)
    instrument = instruments.engine_instrument(version)
    staff = dbs.scalar(select(User).where(User.email == "staff@" + DEMO_DOMAIN))
    firms = dbs.scalars(select(Firm).order_by(Firm.created_at, Firm.uscc)).all()
    now = utcnow()
    count = 0
    for firm in firms:
        if rng.random() > share:
            continue
        set_tenant(dbs, firm.id)
        owner = dbs.scalar(
            select(User).join(Membership, Membership.user_id == User.id).where(Membership.role == "owner")
        )
        set_tenant(dbs, firm.id, owner.id)
        size_boost = {"micro": -0.15, "small": 0.0, "medium": 0.12, "large": 0.25}[firm.size_class]
        level = min(0.95, max(0.05, rng.gauss(0.42 + size_boost, 0.15)))
        rounds = 2 if rng.random() < 0.3 else 1
        for r in range(rounds):
            days_ago = rng.randint(100, 300) if rounds == 2 and r == 0 else rng.randint(1, 80)
            submitted = now - timedelta(days=days_ago)
            assessment = Assessment(
                firm_id=firm.id,
                instrument_version_id=version.id,
                industry=instruments.industry_pack(instrument, firm),
                round=r,
                started_at=submitted - timedelta(hours=2),
                updated_at=submitted,
                created_by_id=owner.id,
                profile={
                    "top_kpis": [k.id for k in rng.sample(list(instrument.kpis), 3)],
                    "cost_shares": services.normalised_shares(
                        {c.id: rng.uniform(0, 1) for c in instrument.cost_categories}
                    ),
                },
            )
            dbs.add(assessment)
            dbs.flush()
            for dim in scoring.questions_for(instrument, assessment.industry):
                for q in dim.questions:
                    na = q.na_allowed and rng.random() < 0.05
                    dbs.add(
                        AssessmentAnswer(
                            firm_id=firm.id,
                            assessment_id=assessment.id,
                            question_id=q.id,
                            value=None if na else demo_answer(q, level, rng),
                            na=na,
                            confidence=rng.randint(2, 5),
                            updated_at=submitted,
                            updated_by_id=owner.id,
                        )
                    )
            dbs.flush()
            snapshot = services.submit_assessment(dbs, firm, owner, assessment, refresh_benchmarks=False)
            assessment.submitted_at = snapshot.created_at = submitted
            if r == rounds - 1 and staff is not None and rng.random() < 0.25:
                services.verify_assessment(dbs, firm, staff, assessment, refresh_benchmarks=False)
                assessment.verified_at = submitted + timedelta(days=7)
            level = min(0.95, level + rng.uniform(0.0, 0.12))
            count += 1
        dbs.flush()  # write this firm's rows while the session is still bound to it

    refresh(dbs, version)
    return count


def programme_logins() -> list[str]:

    return programme_demo.demo_logins()


def demo_logins() -> list[str]:
    """Return one line per kind of demo login, for ``make run`` and the README."""
    return [
        f"firm owner:        owner001@{DEMO_DOMAIN} … owner200@{DEMO_DOMAIN}",
        f"buyer:             buyer01@{DEMO_DOMAIN} … buyer10@{DEMO_DOMAIN}",
        f"bureau (city):     staff@{DEMO_DOMAIN}          TOTP: flask totp-now staff@{DEMO_DOMAIN}",
        f"bureau (Haining):  haining.staff@{DEMO_DOMAIN}  TOTP: flask totp-now haining.staff@{DEMO_DOMAIN}",
        f"platform admin:    admin@{DEMO_DOMAIN}          TOTP: flask totp-now admin@{DEMO_DOMAIN}",
        *programme_logins(),
    ]
