"""Demo data of the 双百 programme (called by ``seed-demo``): a past round carried through 公示 and 公布 into follow-up,
an open round with applications at every stage of pre-review, a project round in expert review, demo experts and a
second city staff member for the two-person rule.

Every step goes through the services with an explicit clock, so the audit chain verifies (``flask audit-verify``).
The past round's applications are built on each firm's earliest snapshot dated before that round's close, as its
firms would have applied then; everything else uses the live submission path.
"""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from saas.core.tenancy import set_staff_scope, set_tenant
from saas.models import Firm, Membership, ScoreSnapshot, User, utcnow
from saas.models.programme import ProgrammeApplication, ProgrammeAssignment, ProgrammeRound
from saas.programme import decisions, experts, services
from saas.programme.errors import ProgrammeError
from saas.tools import demo as base_demo

DEMO_DOMAIN = "demo.jx.example"
DEMO_EXPERTS = (
    ("expert1@" + DEMO_DOMAIN, "周教授", None, "JXDEMOEXPERTONEJXDEMOEXPERTONE22"),
    ("expert2@" + DEMO_DOMAIN, "吴工程师", "haining", "JXDEMOEXPERTTWOJXDEMOEXPERTTWO22"),
    ("expert3@" + DEMO_DOMAIN, "郑研究员", "tongxiang", "JXDEMOEXPERTTHREEJXDEMOEXPERT322"),
    ("expert4@" + DEMO_DOMAIN, "冯高工", None, "JXDEMOEXPERTFOURJXDEMOEXPERTFOU2"),
)
SECOND_STAFF = ("staff2@" + DEMO_DOMAIN, "李秀英", "JXDEMOSECONDSTAFFJXDEMOSECOND222")
RELAXED = {
    "eligibility": {
        "require_verified": False,
        "min_maturity": None,
        "min_dimension": None,
        "min_confidence": None,
        "min_evidence": None,
        "max_trust_gap": None,
    }
}
DECLARATION = (
    "本企业围绕{industry}主业推进数字化改造，建成生产管理与质量追溯系统，成效可量化、可复制，愿意在全市同行中推广经验。"
)


def demo_logins() -> list[str]:
    return [
        f"second city staff: {SECOND_STAFF[0]}         TOTP: flask totp-now {SECOND_STAFF[0]}",
        f"programme experts: expert1@{DEMO_DOMAIN} … expert4@{DEMO_DOMAIN}  TOTP: flask totp-now EMAIL",
    ]


def demo_trade(industry: str) -> str:
    """The Chinese trade word of an industry, as the demo firm names use it (丝绸, 皮革 …)."""

    return base_demo.TRADE[industry][0]


def _owner(dbs: Session, firm: Firm) -> User:
    set_tenant(dbs, firm.id)
    owner = dbs.scalar(select(User).join(Membership, Membership.user_id == User.id).where(Membership.role == "owner"))
    assert owner is not None
    set_tenant(dbs, firm.id, owner.id)
    return owner


def _input(firm: Firm, project: dict[str, Any] | None = None) -> services.ApplicationInput:
    return services.ApplicationInput(
        declaration=DECLARATION.format(industry=demo_trade(firm.industry)),
        contact_name=firm.contact_name,
        contact_phone=firm.contact_phone or "0573-80000000",
        consent_share=True,
        consent_publish=True,
        project=project or {},
    )


def seed_programme(dbs: Session, rng: random.Random, password_hash: str) -> None:

    city = dbs.scalar(select(User).where(User.email == "staff@" + DEMO_DOMAIN))
    assert city is not None
    second, _uri = base_demo.create_staff_user(
        dbs,
        email=SECOND_STAFF[0],
        name=SECOND_STAFF[1],
        county=None,
        admin=False,
        password="x" * 16,
        secret=SECOND_STAFF[2],
    )
    second.password_hash = password_hash
    for email, name, county, secret in DEMO_EXPERTS:
        user, _uri = experts.create_expert_user(
            dbs, email=email, name=name, county=county, affiliation_usccs=(), password="x" * 16, secret=secret
        )
        user.password_hash = password_hash
    dbs.flush()
    firms = list(dbs.scalars(select(Firm).order_by(Firm.created_at, Firm.uscc)))
    _past_round(dbs, rng, city, second, firms)
    _open_round(dbs, city, firms)
    _review_round(dbs, rng, city, firms)
    set_tenant(dbs, None)
    set_staff_scope(dbs, None)


def _past_round(dbs: Session, rng: random.Random, city: User, second: User, firms: list[Firm]) -> None:
    now = utcnow()
    today = services.beijing_today(now)
    closes = today - timedelta(days=95)
    at = lambda days: now - timedelta(days=days)  # noqa: E731 - a clock offset for each step
    rnd = services.create_round(
        dbs,
        city,
        services.RoundInput(
            year=closes.year,
            kind="enterprise",
            title=f"{closes.year}年度第一批双百示范企业",
            opens_on=closes - timedelta(days=45),
            closes_on=closes,
            changes={
                **RELAXED,
                "eligibility": {**RELAXED["eligibility"], "min_maturity": 35},
                "review": {"criteria": [], "pass_mark": None},
                "quotas": {"total": 12, "industry_minimum": 1, "county_minimum": 1},
            },
        ),
        now=at(150),
    )
    services.advance_round(dbs, city, rnd, "open", now=at(139))
    applied: list[tuple[Firm, ProgrammeApplication]] = []
    for firm in firms:
        owner = _owner(dbs, firm)
        snap = dbs.scalar(
            select(ScoreSnapshot)
            .where(ScoreSnapshot.firm_id == firm.id, ScoreSnapshot.kind == "submitted")
            .order_by(ScoreSnapshot.created_at)
            .limit(1)
        )
        if snap is None or services.beijing_today(snap.created_at) > closes:
            continue
        when = max(snap.created_at + timedelta(days=1), at(130))
        app = services.start_application(dbs, firm, owner, rnd, now=when)
        services.save_draft(dbs, app, _input(firm), now=when)
        # as the firm would have submitted then: its snapshot of that time, frozen
        services.freeze_snapshot(app, snap)
        app.status, app.submitted_at = "submitted", when
        dbs.flush()
        services._step(dbs, owner, rnd, app, "submitted", now=when, snapshot_id=snap.id)
        applied.append((firm, app))
    set_tenant(dbs, None)
    services.advance_round(dbs, city, rnd, "pre_review", now=at(94))
    for i, (firm, app) in enumerate(applied):
        set_tenant(dbs, firm.id, city.id)
        decision = "reject" if i % 9 == 4 else "pass"
        reason = "营业执照信息与申报主体不一致" if decision == "reject" else ""
        services.pre_review(dbs, city, rnd, app, firm, decision, reason=reason, deadline=None, now=at(90))
    set_tenant(dbs, None)
    for state, days in (("expert_review", 85), ("ranked", 84)):
        services.advance_round(dbs, city, rnd, state, now=at(days))
    decision = decisions.record_decision(dbs, city, rnd, now=at(83))
    decisions.confirm_decision(dbs, second, rnd, decision, now=at(82))
    services.advance_round(dbs, city, rnd, "publicity", now=at(81))
    selected = [e for e in decision.ranking["entries"] if e["status"] == "selected"]
    if selected:
        objection = decisions.lodge_objection(
            dbs,
            rnd,
            uuid.UUID(selected[-1]["application_id"]),
            name="匿名群众",
            contact="13800000000",
            reason="该企业的数字化项目是否已实际投入运行，请核实。",
            ip=None,
            now=at(80),
        )
        decisions.answer_objection(
            dbs, city, rnd, objection, uphold=False, answer="经现场核实，系统已于申报前上线运行。", now=at(78)
        )
    end = decision.publicity_end
    assert end is not None
    final_at = datetime.combine(end + timedelta(days=2), datetime.min.time()).replace(tzinfo=now.tzinfo)
    final_at = min(final_at, at(1))
    services.advance_round(dbs, city, rnd, "final", now=final_at)
    services.advance_round(dbs, city, rnd, "follow_up", now=final_at + timedelta(days=1))


def _open_round(dbs: Session, city: User, firms: list[Firm]) -> None:
    now = utcnow()
    today = services.beijing_today(now)
    rnd = services.create_round(
        dbs,
        city,
        services.RoundInput(
            year=today.year,
            kind="enterprise",
            title=f"{today.year}年度第二批双百示范企业",
            opens_on=today - timedelta(days=10),
            closes_on=today + timedelta(days=20),
            changes={**RELAXED, "quotas": {"total": 20, "industry_minimum": 2, "county_minimum": 2}},
        ),
        now=now - timedelta(days=12),
    )
    services.advance_round(dbs, city, rnd, "open", now=now - timedelta(days=10))
    stages = ["draft", "draft", "submitted", "submitted", "returned", "passed", "passed", "rejected", "withdrawn"]
    # Haining first, so the Haining staff member has a queue.
    ordered = sorted(firms, key=lambda f: (f.county != "haining", f.created_at))
    for firm in ordered:
        if not stages:
            break
        owner = _owner(dbs, firm)
        if services.latest_snapshot(dbs, firm) is None:
            continue
        stage = stages.pop(0)
        app = services.start_application(dbs, firm, owner, rnd, now=now)
        services.save_draft(dbs, app, _input(firm), now=now)
        if stage == "draft":
            continue
        try:
            services.submit_application(dbs, firm, owner, rnd, app, now=now)
        except ProgrammeError:
            stages.insert(0, stage)
            continue
        set_tenant(dbs, firm.id, city.id)
        if stage == "returned":
            services.pre_review(
                dbs,
                city,
                rnd,
                app,
                firm,
                "return",
                reason="请补充联系电话的区号",
                deadline=today + timedelta(days=7),
                now=now,
            )
        elif stage in ("passed", "rejected"):
            reason = "不属于本批次支持的行业范围" if stage == "rejected" else ""
            services.pre_review(
                dbs,
                city,
                rnd,
                app,
                firm,
                "pass" if stage == "passed" else "reject",
                reason=reason,
                deadline=None,
                now=now,
            )
        elif stage == "withdrawn":
            set_tenant(dbs, firm.id, owner.id)
            services.withdraw_application(dbs, firm, owner, rnd, app, now=now)
    set_tenant(dbs, None)


def _review_round(dbs: Session, rng: random.Random, city: User, firms: list[Firm]) -> None:
    now = utcnow()
    today = services.beijing_today(now)
    rnd = services.create_round(
        dbs,
        city,
        services.RoundInput(
            year=today.year,
            kind="project",
            title=f"{today.year}年度双百示范项目",
            opens_on=today - timedelta(days=30),
            closes_on=today,
            changes={**RELAXED, "quotas": {"total": 10, "industry_minimum": 1, "county_minimum": 1}},
        ),
        now=now - timedelta(days=31),
    )
    services.advance_round(dbs, city, rnd, "open", now=now - timedelta(days=30))
    chosen: list[tuple[Firm, ProgrammeApplication]] = []
    for firm in reversed(firms):
        if len(chosen) == 4:
            break
        owner = _owner(dbs, firm)
        if services.latest_snapshot(dbs, firm) is None:
            continue
        project = {
            "name": f"{firm.name[:6]}智能车间改造项目",
            "dimensions": ["production", "quality"],
            "investment_wan": str(rng.choice([180, 260, 420, 650])),
            "schedule": "2026年3月立项，6月上线，12月验收",
            "kpis": "设备联网率达到90%，产品不良率下降20%",
            "suppliers": "嘉兴本地软件服务商",
        }
        app = services.start_application(dbs, firm, owner, rnd, now=now)
        services.save_draft(dbs, app, _input(firm, project), now=now)
        try:
            services.submit_application(dbs, firm, owner, rnd, app, now=now)
        except ProgrammeError:
            continue
        set_tenant(dbs, firm.id, city.id)
        services.pre_review(dbs, city, rnd, app, firm, "pass", reason="", deadline=None, now=now)
        chosen.append((firm, app))
    set_tenant(dbs, None)
    for state in ("pre_review", "expert_review"):
        services.advance_round(dbs, city, rnd, state, now=now)
    experts.assign_experts(dbs, city, rnd, now=now, due_on=today + timedelta(days=10))
    # First application: two close reviews (final); second: a 20-point split (a third expert is assigned).
    plans = [(78, 74), (85, 65)]
    for (firm, app), totals in zip(chosen, plans, strict=False):
        rows = list(
            dbs.scalars(
                select(ProgrammeAssignment)
                .where(ProgrammeAssignment.application_id == app.id)
                .order_by(ProgrammeAssignment.created_at)
                .execution_options(all_tenants=True)
            )
        )
        for assignment, total in zip(rows, totals, strict=False):
            expert = dbs.get(User, assignment.expert_id)
            assert expert is not None
            set_tenant(dbs, firm.id, expert.id)
            scores = _scores_for(rnd, total)
            experts.submit_review(dbs, expert, rnd, app, assignment, scores, dict.fromkeys(scores, "材料翔实"), now=now)
    set_tenant(dbs, None)


def _scores_for(rnd: ProgrammeRound, total: float) -> dict[str, float]:
    """Spread ``total`` over the rubric in proportion to each criterion's points."""
    criteria = rnd.params["review"]["criteria"]
    return {c["id"]: round(c["points"] * total / 100, 1) for c in criteria}
