"""Programme pages: the public method page, the firm's checklist and application, the bureau's rounds and
pre-review. Each view: scoped getter, guard, form, one service call, one commit, redirect."""

from __future__ import annotations

import uuid
from typing import Any

from flask import Blueprint, abort, flash, g, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from saas.benchmarking.results_names import dimension_names
from saas.core.extensions import db
from saas.core.security import require_firm_member, require_staff
from saas.models import User, utcnow
from saas.programme import experts, followup, labels, services
from saas.programme.decisions import awards
from saas.programme.errors import InvalidInput, NotFound, ProgrammeError
from saas.programme.forms import PARAM_FIELDS, ApplicationForm, FollowUpForm, PreReviewForm, RoundForm
from saas.web.forms import ConfirmForm
from scoring import programme as engine

bp = Blueprint("programme", __name__, url_prefix="/programme")


@bp.errorhandler(ProgrammeError)
def _programme_error(exc: ProgrammeError) -> Any:
    db.session.rollback()
    if isinstance(exc, NotFound):
        return render_template("errors/404.html"), 404
    message = str(labels.ERRORS.get(exc.code, exc.code))
    if request.path.endswith("/autosave"):
        return jsonify({"ok": False, "error": exc.code, "message": message}), exc.status
    return render_template("programme/error.html", message=message), exc.status


def _firm_guard() -> Any:
    return require_firm_member()


def _staff_guard() -> Any:
    return require_staff()


def _render_checklist(rnd: Any, eligibility: Any) -> list[dict[str, Any]]:
    names = dimension_names(db.session)
    lines = []
    for rule in eligibility.rules:
        lines.append(
            {
                "rule": rule,
                "label": labels.RULES.get(rule.rule, rule.rule),
                "message": labels.rule_message(rule, names),
                "fix": labels.action_link(rule.action, rnd.id) if not rule.passed else None,
            }
        )
    return lines


# --- Public --------------------------------------------------------------------------------------------------


@bp.route("/rounds/<uuid:round_id>/method")
def method(round_id: uuid.UUID) -> Any:
    rnd = services.get_round(db.session, round_id, public=True)
    return render_template(
        "programme/method.html",
        rnd=rnd,
        p=rnd.params,
        digest=services.params_digest(rnd.params),
        names=dimension_names(db.session),
    )


# --- Firm ----------------------------------------------------------------------------------------------------


@bp.route("/")
def index() -> Any:
    if (guard := _firm_guard()) is not None:
        return guard
    rounds = services.list_rounds(db.session, include_drafts=False)
    mine = {r.id: services.application_of(db.session, g.tenant, r) for r in rounds}
    return render_template("programme/index.html", rounds=rounds, mine=mine)


@bp.route("/rounds/<uuid:round_id>/eligibility")
def eligibility(round_id: uuid.UUID) -> Any:
    if (guard := _firm_guard()) is not None:
        return guard
    rnd = services.get_round(db.session, round_id, public=True)
    app = services.application_of(db.session, g.tenant, rnd)
    verdict = services.firm_eligibility(db.session, g.tenant, rnd, app, now=utcnow())
    return render_template(
        "programme/eligibility.html", rnd=rnd, app=app, verdict=verdict, lines=_render_checklist(rnd, verdict)
    )


@bp.route("/rounds/<uuid:round_id>/apply", methods=["GET", "POST"])
def apply(round_id: uuid.UUID) -> Any:
    if (guard := _firm_guard()) is not None:
        return guard
    rnd = services.get_round(db.session, round_id, public=True)
    app = services.application_of(db.session, g.tenant, rnd)
    form = ApplicationForm()
    if request.method == "GET":
        if app is not None:
            form.fill_from(app)
        return _apply_page(rnd, app, form)
    if not form.validate_on_submit():
        return _apply_page(rnd, app, form), 400
    now = utcnow()
    app = services.start_application(db.session, g.tenant, g.user, rnd, now=now)
    services.save_draft(db.session, app, _application_input(form), now=now)
    if request.form.get("action") != "submit":
        db.session.commit()
        flash(_("The draft is saved."), "success")
        return redirect(url_for("programme.apply", round_id=rnd.id))
    try:
        services.submit_application(db.session, g.tenant, g.user, rnd, app, now=now)
    except InvalidInput as exc:
        db.session.commit()  # keep the draft: nothing typed is lost
        _field_errors(form, exc.problems)
        flash(str(labels.ERRORS[exc.code]), "error")
        return _apply_page(rnd, app, form), 400
    except ProgrammeError as exc:
        db.session.commit()
        flash(str(labels.ERRORS.get(exc.code, exc.code)), "error")
        return _apply_page(rnd, app, form), exc.status
    db.session.commit()
    flash(_("The application is submitted."), "success")
    return redirect(url_for("programme.application", application_id=app.id))


def _apply_page(rnd: Any, app: Any, form: ApplicationForm) -> str:
    verdict = services.firm_eligibility(db.session, g.tenant, rnd, app, now=utcnow())
    return render_template(
        "programme/apply.html",
        rnd=rnd,
        app=app,
        form=form,
        verdict=verdict,
        lines=_render_checklist(rnd, verdict),
        confirm=ConfirmForm(),
    )


def _application_input(form: ApplicationForm) -> services.ApplicationInput:
    return services.ApplicationInput(
        declaration=form.declaration.data or "",
        contact_name=form.contact_name.data or "",
        contact_phone=form.contact_phone.data or "",
        consent_share=bool(form.consent_share.data),
        consent_publish=bool(form.consent_publish.data),
        project=form.project(),
    )


def _field_errors(form: Any, problems: dict[str, str]) -> None:
    for name, key in problems.items():
        field = getattr(form, PARAM_FIELDS.get(name, name), None)
        if field is not None:
            field.errors = [*list(field.errors or []), str(labels.FIELD_PROBLEMS.get(key, key))]


@bp.route("/rounds/<uuid:round_id>/autosave", methods=["POST"])
def autosave(round_id: uuid.UUID) -> Any:
    if (guard := _firm_guard()) is not None:
        return guard
    rnd = services.get_round(db.session, round_id, public=True)
    form = ApplicationForm()
    if not form.validate_on_submit():
        return jsonify({"ok": False, "errors": form.errors}), 400
    now = utcnow()
    app = services.start_application(db.session, g.tenant, g.user, rnd, now=now)
    services.save_draft(db.session, app, _application_input(form), now=now)
    db.session.commit()
    return jsonify({"ok": True, "saved_at": now.isoformat()})


@bp.route("/applications/<uuid:application_id>")
def application(application_id: uuid.UUID) -> Any:
    if (guard := _firm_guard()) is not None:
        return guard
    app = services.get_application(db.session, g.tenant, application_id)
    rnd = services.get_round(db.session, app.round_id)
    return render_template(
        "programme/application.html",
        rnd=rnd,
        app=app,
        events=services.timeline(db.session, app),
        confirm=ConfirmForm(),
        comparison=followup.comparison(app) if app.t1_snapshot_result else None,
        dimension_names=dimension_names(db.session),
        on_final_list=rnd.kind == "project" and followup.is_selected(db.session, rnd, app),
    )


@bp.route("/applications/<uuid:application_id>/withdraw", methods=["POST"])
def withdraw(application_id: uuid.UUID) -> Any:
    if (guard := _firm_guard()) is not None:
        return guard
    app = services.get_application(db.session, g.tenant, application_id)
    rnd = services.get_round(db.session, app.round_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.withdraw_application(db.session, g.tenant, g.user, rnd, app, now=utcnow())
    db.session.commit()
    flash(_("The application is withdrawn."), "success")
    return redirect(url_for("programme.application", application_id=app.id))


# --- Bureau: rounds ----------------------------------------------------------------------------------------------


@bp.route("/bureau/rounds")
def staff_rounds() -> Any:
    if (guard := _staff_guard()) is not None:
        return guard
    return render_template("programme/staff_rounds.html", rounds=services.list_rounds(db.session, include_drafts=True))


def _round_input(form: RoundForm) -> services.RoundInput:
    return services.RoundInput(
        year=int(form.year.data),
        kind=form.kind.data,
        title=form.title.data,
        opens_on=form.opens_on.data,
        closes_on=form.closes_on.data,
        changes=form.changes(),
    )


@bp.route("/bureau/rounds/new", methods=["GET", "POST"])
def new_round() -> Any:
    if (guard := _staff_guard()) is not None:
        return guard
    form = RoundForm()
    if request.method == "GET":
        form.kind.data = request.args.get("kind") if request.args.get("kind") in labels.ROUND_KIND else "enterprise"
        form.fill_params(engine.default_params(form.kind.data).to_dict())
        form.year.data = utcnow().year
        form.publicity_working_days.data = 5
    if form.validate_on_submit():
        try:
            rnd = services.create_round(db.session, g.user, _round_input(form), now=utcnow())
        except InvalidInput as exc:
            db.session.rollback()
            _field_errors(form, exc.problems)
            flash(str(labels.ERRORS[exc.code]), "error")
            return render_template("programme/round_form.html", form=form, rnd=None), 400
        db.session.commit()
        flash(_("The round is created as a draft."), "success")
        return redirect(url_for("programme.staff_round", round_id=rnd.id))
    return render_template("programme/round_form.html", form=form, rnd=None), 400 if form.errors else 200


@bp.route("/bureau/rounds/<uuid:round_id>/edit", methods=["GET", "POST"])
def edit_round(round_id: uuid.UUID) -> Any:
    if (guard := _staff_guard()) is not None:
        return guard
    rnd = services.get_round(db.session, round_id)
    if rnd.status != "draft":
        raise ProgrammeError("params_frozen")
    form = RoundForm()
    if request.method == "GET":
        form.fill_from(rnd)
    if form.validate_on_submit():
        try:
            services.edit_round(db.session, g.user, rnd, _round_input(form), now=utcnow())
        except InvalidInput as exc:
            db.session.rollback()
            _field_errors(form, exc.problems)
            flash(str(labels.ERRORS[exc.code]), "error")
            return render_template("programme/round_form.html", form=form, rnd=rnd), 400
        db.session.commit()
        flash(_("The round is saved."), "success")
        return redirect(url_for("programme.staff_round", round_id=rnd.id))
    return render_template("programme/round_form.html", form=form, rnd=rnd), 400 if form.errors else 200


@bp.route("/bureau/rounds/<uuid:round_id>/advance", methods=["POST"])
def advance(round_id: uuid.UUID) -> Any:
    if (guard := _staff_guard()) is not None:
        return guard
    rnd = services.get_round(db.session, round_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.advance_round(db.session, g.user, rnd, request.form.get("to", ""), now=utcnow())
    db.session.commit()
    flash(_("The round is now: %(state)s.", state=labels.ROUND_STATUS[rnd.status]), "success")
    return redirect(url_for("programme.staff_round", round_id=rnd.id))


@bp.route("/bureau/rounds/<uuid:round_id>")
def staff_round(round_id: uuid.UUID) -> Any:
    if (guard := _staff_guard()) is not None:
        return guard
    rnd = services.get_round(db.session, round_id)
    status = request.args.get("status") if request.args.get("status") in labels.APPLICATION_STATUS else None
    position = services.ROUND_FLOW.index(rnd.status)
    return render_template(
        "programme/staff_round.html",
        rnd=rnd,
        rows=services.staff_applications(db.session, g.user, rnd, status),
        counts=services.counts_by_status(db.session, g.user, rnd),
        status=status,
        next_state=services.ROUND_FLOW[position + 1] if position + 1 < len(services.ROUND_FLOW) else None,
        confirm=ConfirmForm(),
    )


# --- Bureau: pre-review ------------------------------------------------------------------------------------------


@bp.route("/bureau/applications/<uuid:firm_id>/<uuid:application_id>", methods=["GET", "POST"])
def staff_application(firm_id: uuid.UUID, application_id: uuid.UUID) -> Any:
    if (guard := _staff_guard()) is not None:
        return guard
    app, firm = services.staff_application(db.session, g.user, firm_id, application_id)
    rnd = services.get_round(db.session, app.round_id)
    form = PreReviewForm()
    if request.method == "POST" and form.validate_on_submit():
        try:
            services.pre_review(
                db.session,
                g.user,
                rnd,
                app,
                firm,
                form.decision.data,
                reason=form.reason.data or "",
                deadline=form.deadline.data,
                now=utcnow(),
            )
        except InvalidInput as exc:
            db.session.rollback()
            _field_errors(form, exc.problems)
        else:
            db.session.commit()
            flash(_("The pre-review decision is recorded."), "success")
            return redirect(url_for("programme.staff_application", firm_id=firm.id, application_id=app.id))
    return render_template(
        "programme/staff_application.html",
        rnd=rnd,
        app=app,
        firm=firm,
        form=form,
        events=services.timeline(db.session, app),
        completeness=services.completeness_problems(rnd, app),
        reviews=(reviews := experts.application_reviews(db.session, app)),
        expert_names=_names(r.expert_id for r in reviews),
    ), 400 if form.errors else 200


@bp.route("/bureau/applications/<uuid:firm_id>/<uuid:application_id>/follow-up", methods=["GET", "POST"])
def follow_up(firm_id: uuid.UUID, application_id: uuid.UUID) -> Any:
    if (guard := _staff_guard()) is not None:
        return guard
    app, firm = services.staff_application(db.session, g.user, firm_id, application_id)
    rnd = services.get_round(db.session, app.round_id)
    form = FollowUpForm()
    kpis = followup.promised_kpis(app)
    if request.method == "POST" and form.validate_on_submit():
        data = followup.FollowUpInput(
            achieved=[request.form.get(f"achieved_{i}", "") for i in range(len(kpis))],
            met=[request.form.get(f"met_{i}") == "y" for i in range(len(kpis))],
            acceptance=form.acceptance.data or None,
            acceptance_on=form.acceptance_on.data,
            reason=form.reason.data or "",
        )
        try:
            followup.record_follow_up(db.session, g.user, rnd, app, firm, data, now=utcnow())
        except InvalidInput as exc:
            db.session.rollback()
            _field_errors(form, exc.problems)
        else:
            db.session.commit()
            flash(_("The follow-up is recorded."), "success")
            return redirect(url_for("programme.follow_up", firm_id=firm.id, application_id=app.id))
    return render_template(
        "programme/follow_up.html",
        rnd=rnd,
        app=app,
        firm=firm,
        form=form,
        kpis=kpis,
        posted=request.form if request.method == "POST" else None,
        selected=followup.is_selected(db.session, rnd, app),
        comparison=followup.comparison(app),
        dimension_names=dimension_names(db.session),
        acceptance_by=_names([app.acceptance_by_id] if app.acceptance_by_id else []),
    ), 400 if form.errors else 200


def _names(ids: Any) -> dict[uuid.UUID, str]:

    wanted = set(ids)
    if not wanted:
        return {}
    return {u.id: u.name for u in db.session.scalars(select(User).where(User.id.in_(wanted)))}


@bp.context_processor
def _labels() -> dict[str, Any]:
    return {
        "ROUND_KIND": labels.ROUND_KIND,
        "ROUND_STATUS": labels.ROUND_STATUS,
        "APPLICATION_STATUS": labels.APPLICATION_STATUS,
        "EVENT_ACTION": labels.EVENT_ACTION,
        "FIELD_PROBLEMS": labels.FIELD_PROBLEMS,
        "ASSIGNMENT_STATUS": labels.ASSIGNMENT_STATUS,
        "VERDICT_STATUS": labels.VERDICT_STATUS,
        "VERDICT_RULE": labels.VERDICT_RULE,
        "CRITERIA": labels.CRITERIA,
        "COMPONENTS": labels.COMPONENTS,
        "EXCLUDED": labels.EXCLUDED,
        "ACCEPTANCE": labels.ACCEPTANCE,
    }


from saas.programme import decision_views, expert_views  # noqa: E402,F401 - more routes on this blueprint


@bp.app_template_global("programme_awards")
def _programme_awards(firm_id: uuid.UUID) -> list[tuple[int, str]]:
    """The firm's 双百 awards for its public supplier profile (templates/market/supplier.html)."""

    return awards(db.session, firm_id)
