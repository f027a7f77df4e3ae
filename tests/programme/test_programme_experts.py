"""Expert review: CLI accounts with mandatory TOTP, assignment with automatic conflict exclusion, independent scoring
(no other score visible), a third expert on a split, conflicts sent back for reassignment, blind review."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import event, select

from saas.models import EmailMessage, Firm, User, utcnow
from saas.models.programme import ExpertProfile, ProgrammeApplication, ProgrammeAssignment, ProgrammeRound
from saas.programme import experts, services
from tests.conftest import PASSWORD, app_session, totp_code
from tests.programme.programme_support import RELAXED, make_round, submitted_application

FULL = {
    "demonstration_value": 30,
    "measured_results": 25,
    "replicability": 15,
    "security_green": 10,
    "declaration_quality": 0,
}
LOW = {
    "demonstration_value": 20,
    "measured_results": 20,
    "replicability": 10,
    "security_green": 5,
    "declaration_quality": 5,
}
MID = {
    "demonstration_value": 25,
    "measured_results": 20,
    "replicability": 15,
    "security_green": 5,
    "declaration_quality": 5,
}


def make_expert(app, name, county=None, affiliated=()):
    with app_session(app) as s:
        usccs = [s.get(Firm, f.id).uscc for f in affiliated]
        user, _uri = experts.create_expert_user(
            s,
            email=f"{name}@experts.example",
            name=name,
            county=county,
            affiliation_usccs=usccs,
            password=PASSWORD,
        )
        return {"id": user.id, "email": user.email, "secret": user.totp_secret}


def expert_client(make_client, expert):
    client = make_client()
    client.login(expert["email"])
    client.post("/auth/two-factor", {"code": totp_code(expert["secret"])})
    return client


def round_in_review(app, firms, quick_submission, changes=None):
    """A round with every firm submitted and passed, moved to expert review."""
    round_id = make_round(app, changes=changes if changes is not None else RELAXED)
    for firm in firms:
        quick_submission(firm, 0.8)
        application_id = submitted_application(app, firm, round_id)
        with app_session(app, firm.id) as s:
            rnd = s.get(ProgrammeRound, round_id)
            staff = s.get(User, rnd.created_by_id)
            application = s.get(ProgrammeApplication, (firm.id, application_id))
            services.pre_review(
                s, staff, rnd, application, s.get(Firm, firm.id), "pass", reason="", deadline=None, now=utcnow()
            )
    with app_session(app) as s:
        rnd = s.get(ProgrammeRound, round_id)
        staff = s.get(User, rnd.created_by_id)
        for state in ("pre_review", "expert_review"):
            services.advance_round(s, staff, rnd, state, now=utcnow())
    return round_id


def assign(app, round_id):
    with app_session(app) as s:
        rnd = s.get(ProgrammeRound, round_id)
        return experts.assign_experts(s, s.get(User, rnd.created_by_id), rnd, now=utcnow())


def assignments(app, firm):
    with app_session(app, firm.id) as s:
        return list(s.scalars(select(ProgrammeAssignment).order_by(ProgrammeAssignment.created_at)))


def score_form(scores, comment=""):
    data = {f"score-{k}": str(v) for k, v in scores.items()}
    data.update({f"comment-{k}": comment for k in scores})
    return data


def test_create_expert_by_cli_enrols_totp_and_login_needs_it(app, make_client, firm_a):
    runner = app.test_cli_runner()
    with app_session(app) as s:
        uscc = s.get(Firm, firm_a.id).uscc
    result = runner.invoke(
        args=["create-expert", "--email", "li@experts.example", "--name", "李教授", "--county", "haining"]
        + ["--affiliation", uscc, "--password", "a long expert passphrase"]
    )
    assert result.exit_code == 0, result.output
    with app_session(app) as s:
        user = s.scalar(select(User).where(User.email == "li@experts.example"))
        profile = s.get(ExpertProfile, user.id)
        assert user.kind == "expert" and user.totp_enabled and user.mfa_required
        assert profile.county == "haining" and profile.affiliations == [str(firm_a.id)]
    client = make_client()
    response = client.login("li@experts.example", "a long expert passphrase")
    assert "/auth/two-factor" in response.headers["Location"]
    assert client.get("/programme/expert/").status_code == 302  # not logged in without the code
    bad = runner.invoke(args=["create-expert", "--email", "x@experts.example", "--name", "x", "--affiliation", "1"])
    assert bad.exit_code != 0


def test_assignment_excludes_conflicts_and_balances_load(app, firm_a, firm_b, quick_submission):
    e_nanhu = make_expert(app, "e1", county="nanhu")
    e_haining = make_expert(app, "e2", county="haining")
    e_linked = make_expert(app, "e3", affiliated=[firm_a])
    e_free = make_expert(app, "e4")
    round_id = round_in_review(app, [firm_a, firm_b], quick_submission)
    assert assign(app, round_id) == 4
    on_a = {a.expert_id for a in assignments(app, firm_a)}
    on_b = {a.expert_id for a in assignments(app, firm_b)}
    # firm A (nanhu): not the nanhu expert (same county), not the affiliated one
    assert on_a == {e_haining["id"], e_free["id"]}
    # firm B (haining): the least loaded conflict-free experts
    assert on_b == {e_nanhu["id"], e_linked["id"]}
    assert assign(app, round_id) == 0  # nothing more to do
    with app_session(app) as s:
        assert s.scalars(select(EmailMessage).where(EmailMessage.to == e_free["email"])).all()


def test_an_expert_sees_only_assigned_applications(app, make_client, firm_a, firm_b, quick_submission):
    e1 = make_expert(app, "e1", county="nanhu")
    make_expert(app, "e2", county="haining")
    make_expert(app, "e3")
    round_id = round_in_review(app, [firm_a, firm_b], quick_submission)
    assign(app, round_id)
    client = expert_client(make_client, e1)
    mine = [a for a in assignments(app, firm_b) if a.expert_id == e1["id"]]
    others = [a for a in assignments(app, firm_a)]
    assert mine and others and all(a.expert_id != e1["id"] for a in others)
    assert client.get(f"/programme/expert/assignments/{mine[0].id}").status_code == 200
    for a in others:
        assert client.get(f"/programme/expert/assignments/{a.id}").status_code == 404
        assert client.post(f"/programme/expert/assignments/{a.id}", score_form(FULL)).status_code == 404
    home = client.get("/programme/expert/").get_data(as_text=True)
    assert str(mine[0].id) in home and all(str(a.id) not in home for a in others)
    # experts are not staff and not firm members
    assert client.get(f"/programme/bureau/rounds/{round_id}").status_code == 403
    assert client.get(f"/programme/applications/{mine[0].application_id}").status_code == 403
    firm_owner = make_client()
    firm_owner.login(firm_b.owner_email)
    assert firm_owner.get(f"/programme/expert/assignments/{mine[0].id}").status_code == 403


def test_a_split_of_20_points_brings_in_a_third_expert_and_the_median_counts(
    app, make_client, firm_a, quick_submission
):
    pool = [make_expert(app, f"x{i}") for i in range(3)]
    round_id = round_in_review(app, [firm_a], quick_submission)
    assign(app, round_id)
    first, second = assignments(app, firm_a)
    by_id = {e["id"]: e for e in pool}
    c1 = expert_client(make_client, by_id[first.expert_id])
    url1 = f"/programme/expert/assignments/{first.id}"
    assert c1.post(url1, score_form(FULL, "秘密评语甲")).status_code == 302
    c2 = expert_client(make_client, by_id[second.expert_id])
    url2 = f"/programme/expert/assignments/{second.id}"
    page = c2.get(url2).get_data(as_text=True)
    assert "秘密评语甲" not in page and 'value="30"' not in page  # no other score before submitting
    assert c2.post(url2, score_form(LOW, "秘密评语乙")).status_code == 302
    page = c2.get(url2).get_data(as_text=True)
    assert "秘密评语甲" not in page  # nor after
    rows = assignments(app, firm_a)
    assert len(rows) == 3 and rows[2].third and rows[2].status == "assigned"
    with app_session(app, firm_a.id) as s:
        assert s.scalar(select(ProgrammeApplication.expert_verdict))["status"] == "needs_third_review"
    c3 = expert_client(make_client, by_id[rows[2].expert_id])
    assert c3.post(f"/programme/expert/assignments/{rows[2].id}", score_form(MID)).status_code == 302
    with app_session(app, firm_a.id) as s:
        verdict = s.scalar(select(ProgrammeApplication.expert_verdict))
    assert verdict["status"] == "final" and verdict["final"] == 70 and verdict["rule"] == "median_of_three"


def test_a_split_of_exactly_the_threshold_needs_no_third(app, make_client, firm_a, quick_submission):
    pool = [make_expert(app, f"y{i}") for i in range(3)]
    round_id = round_in_review(app, [firm_a], quick_submission)
    assign(app, round_id)
    by_id = {e["id"]: e for e in pool}
    at_threshold = dict(FULL, replicability=0)  # 65: 80 − 65 = 15
    for a, scores in zip(assignments(app, firm_a), (FULL, at_threshold), strict=True):
        client = expert_client(make_client, by_id[a.expert_id])
        assert client.post(f"/programme/expert/assignments/{a.id}", score_form(scores)).status_code == 302
    assert len(assignments(app, firm_a)) == 2
    with app_session(app, firm_a.id) as s:
        verdict = s.scalar(select(ProgrammeApplication.expert_verdict))
    assert verdict["status"] == "final" and verdict["final"] == 72.5 and verdict["rule"] == "mean_of_two"


def test_an_invalid_score_is_refused_next_to_its_criterion(app, make_client, firm_a, quick_submission):
    pool = [make_expert(app, f"z{i}") for i in range(2)]
    round_id = round_in_review(app, [firm_a], quick_submission)
    assign(app, round_id)
    a = assignments(app, firm_a)[0]
    client = expert_client(make_client, next(e for e in pool if e["id"] == a.expert_id))
    form = score_form(dict(FULL, demonstration_value=31), "保留这段评语")
    response = client.post(f"/programme/expert/assignments/{a.id}", form)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'id="score-demonstration_value-error"' in html and "保留这段评语" in html
    assert assignments(app, firm_a)[0].status == "assigned" and assignments(app, firm_a)[0].scores == {}


def test_a_bad_comment_is_refused_next_to_its_comment(app, make_client, firm_a, quick_submission):
    pool = [make_expert(app, f"k{i}") for i in range(2)]
    round_id = round_in_review(app, [firm_a], quick_submission)
    assign(app, round_id)
    a = assignments(app, firm_a)[0]
    client = expert_client(make_client, next(e for e in pool if e["id"] == a.expert_id))
    response = client.post(f"/programme/expert/assignments/{a.id}", score_form(FULL, "长" * 1001))
    assert response.status_code == 400
    error = re.search(r'<p class="error" id="comment-replicability-error" role="alert">(.*?)</p>', response.text)
    assert error is not None and error.group(1) == "数值超出范围。"
    assert assignments(app, firm_a)[0].status == "assigned"


def test_a_declared_conflict_goes_to_another_expert_and_never_back(app, make_client, firm_a, quick_submission):
    pool = [make_expert(app, f"w{i}") for i in range(3)]
    round_id = round_in_review(app, [firm_a], quick_submission)
    assign(app, round_id)
    first = assignments(app, firm_a)[0]
    client = expert_client(make_client, next(e for e in pool if e["id"] == first.expert_id))
    url = f"/programme/expert/assignments/{first.id}/conflict"
    assert client.post(url, {"reason": ""}).status_code == 400
    assert client.post(url, {"reason": "曾为该企业提供咨询"}).status_code == 302
    rows = assignments(app, firm_a)
    assert [r.status for r in rows] == ["conflict", "assigned", "assigned"]
    assert len({r.expert_id for r in rows}) == 3
    assert assign(app, round_id) == 0
    with app_session(app) as s:
        assert str(firm_a.id) in s.get(ExpertProfile, first.expert_id).affiliations


def test_blind_review_hides_the_firm_name_and_id_from_pages_and_urls(app, make_client, firm_a, quick_submission):
    pool = [make_expert(app, f"b{i}") for i in range(2)]
    changes = {**RELAXED, "review": {"blind": True}}
    round_id = round_in_review(app, [firm_a], quick_submission, changes=changes)
    assign(app, round_id)
    a = assignments(app, firm_a)[0]
    client = expert_client(make_client, next(e for e in pool if e["id"] == a.expert_id))
    home = client.get("/programme/expert/")
    links = re.findall(r'(?:href|action)="([^"]+)"', home.get_data(as_text=True))
    review_links = [link for link in links if "/expert/assignments/" in link]
    assert review_links == [f"/programme/expert/assignments/{a.id}"]
    page = client.get(review_links[0])
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and 'id="review-form"' in html
    submitted = client.post(review_links[0], score_form(FULL))
    assert submitted.status_code == 302
    after = client.get(submitted.headers["Location"]).get_data(as_text=True)
    assert assignments(app, firm_a)[0].status == "submitted"
    seen = [home.get_data(as_text=True), html, submitted.headers["Location"], after, *links]
    seen += re.findall(r'(?:href|action)="([^"]+)"', html)
    for text in seen:
        assert firm_a.name not in text and str(firm_a.id) not in text
        assert str(firm_a.id).replace("-", "") not in text


def test_staff_see_every_review_but_county_staff_only_in_their_county(
    app, make_client, create_user, firm_a, quick_submission
):
    from tests.programme.test_programme_rounds import staff_client

    pool = [make_expert(app, f"s{i}") for i in range(2)]
    round_id = round_in_review(app, [firm_a], quick_submission)
    assign(app, round_id)
    a = assignments(app, firm_a)[0]
    client = expert_client(make_client, next(e for e in pool if e["id"] == a.expert_id))
    client.post(f"/programme/expert/assignments/{a.id}", score_form(FULL, "给经信局看的评语"))
    application_id = a.application_id
    city = staff_client(make_client, create_user)
    page = city.get(f"/programme/bureau/applications/{firm_a.id}/{application_id}").get_data(as_text=True)
    assert "给经信局看的评语" in page
    second = next(e for e in pool if e["id"] != a.expert_id)
    other = assignments(app, firm_a)[1]
    assert expert_client(make_client, second).post(f"/programme/expert/assignments/{other.id}", score_form(FULL))
    page = city.get(f"/programme/bureau/applications/{firm_a.id}/{application_id}").get_data(as_text=True)
    verdict = re.search(r'<p id="verdict">(.*?)</p>', page).group(1)
    assert verdict == "评审结论：最终结论 · 最终得分 80.00（两位专家平均分）"
    other_county = staff_client(make_client, create_user, county="haining")
    assert other_county.get(f"/programme/bureau/applications/{firm_a.id}/{application_id}").status_code == 404


def test_reminders_go_once_for_open_reviews_near_their_deadline(app, firm_a, quick_submission):
    from datetime import timedelta

    pool = [make_expert(app, f"r{i}") for i in range(2)]
    round_id = round_in_review(app, [firm_a], quick_submission)
    today = services.beijing_today(utcnow())
    with app_session(app) as s:
        rnd = s.get(ProgrammeRound, round_id)
        experts.assign_experts(s, s.get(User, rnd.created_by_id), rnd, now=utcnow(), due_on=today + timedelta(days=2))
    first = assignments(app, firm_a)[0]
    with app_session(app, firm_a.id) as s:  # one of the two is already submitted: no reminder for it
        rnd = s.get(ProgrammeRound, round_id)
        a = s.get(ProgrammeAssignment, (firm_a.id, first.id))
        experts.submit_review(
            s,
            s.get(User, a.expert_id),
            rnd,
            s.get(ProgrammeApplication, (firm_a.id, a.application_id)),
            a,
            FULL,
            {},
            now=utcnow(),
        )
    runner = app.test_cli_runner()
    assert "sent 1 reminders" in runner.invoke(args=["programme-remind"]).output
    assert "sent 0 reminders" in runner.invoke(args=["programme-remind"]).output
    other = next(e for e in pool if e["id"] != first.expert_id)
    with app_session(app) as s:
        subjects = s.scalars(select(EmailMessage.subject).where(EmailMessage.to == other["email"])).all()
        assert any("提醒" in x or "Reminder" in x for x in subjects)
        mine = s.scalars(select(EmailMessage.subject).where(EmailMessage.to == by_email(pool, first.expert_id))).all()
        assert not any("提醒" in x or "Reminder" in x for x in mine)


def by_email(pool, expert_id):
    return next(e["email"] for e in pool if e["id"] == expert_id)


@pytest.mark.postgres_only
def test_a_review_locks_the_application_before_reading_its_assignments(app, make_client, firm_a, quick_submission):
    pool = [make_expert(app, f"l{i}") for i in range(2)]
    round_id = round_in_review(app, [firm_a], quick_submission)
    assign(app, round_id)
    a = assignments(app, firm_a)[0]
    client = expert_client(make_client, next(e for e in pool if e["id"] == a.expert_id))
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany):  # noqa: ARG001 - the event's signature
        statements.append(" ".join(statement.split()))

    engine = app.extensions["database"][0]
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert client.post(f"/programme/expert/assignments/{a.id}", score_form(FULL)).status_code == 302
    finally:
        event.remove(engine, "before_cursor_execute", record)
    lock = next(i for i, st in enumerate(statements) if "FROM programme_applications" in st and "FOR UPDATE" in st)
    reads = [i for i, st in enumerate(statements) if st.startswith("SELECT") and "FROM programme_assignments" in st]
    update = next(i for i, st in enumerate(statements) if st.startswith("UPDATE programme_assignments"))
    assert lock < update and [i for i in reads if i > update] and all(lock < i for i in reads if i > update)
