"""Localised labels of the programme: states, errors, and the engine's checklist message keys with their values."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from scoring import programme as engine

ROUND_STATUS = {
    "draft": _l("Draft"),
    "open": _l("Open for applications"),
    "pre_review": _l("County pre-review"),
    "expert_review": _l("Expert review"),
    "ranked": _l("Ranked"),
    "publicity": _l("Public notice (公示)"),
    "final": _l("Published"),
    "follow_up": _l("Follow-up"),
    "archived": _l("Archived"),
}
ROUND_KIND = {"enterprise": _l("Demonstration enterprise"), "project": _l("Demonstration project")}
APPLICATION_STATUS = {
    "draft": _l("Draft"),
    "submitted": _l("Submitted, awaiting county pre-review"),
    "returned": _l("Returned for correction"),
    "passed": _l("Passed county pre-review"),
    "rejected": _l("Rejected in pre-review"),
    "withdrawn": _l("Withdrawn"),
    "removed": _l("Removed after an upheld objection"),
}
EVENT_ACTION = {
    "created": _l("Draft started"),
    "submitted": _l("Submitted"),
    "resubmitted": _l("Resubmitted after correction"),
    "withdrawn": _l("Withdrawn"),
    "pre_review_pass": _l("Passed county pre-review"),
    "pre_review_return": _l("Returned for correction"),
    "pre_review_reject": _l("Rejected in pre-review"),
    "removed_after_objection": _l("Removed after an upheld objection"),
    "follow_up_recorded": _l("Follow-up re-assessment (T1) recorded"),
    "acceptance_passed": _l("Acceptance (验收) passed"),
    "acceptance_not_passed": _l("Acceptance (验收) not passed"),
}
ACCEPTANCE = {"passed": _l("Passed"), "not_passed": _l("Not passed")}
ASSIGNMENT_STATUS = {
    "assigned": _l("To review"),
    "conflict": _l("Conflict declared"),
    "submitted": _l("Submitted"),
}
VERDICT_STATUS = {
    "final": _l("final"),
    "needs_third_review": _l("a third review is needed"),
    "incomplete": _l("awaiting reviews"),
}
VERDICT_RULE = {
    "mean_of_two": _l("mean of two reviews"),
    "median_of_three": _l("median of three reviews"),
    "mean": _l("mean of the reviews"),
}
REASONS = {
    "score": _l("Selected by score"),
    "industry_minimum": _l("Selected for its industry's minimum"),
    "county_minimum": _l("Selected for its county's minimum"),
    "industry_and_county_minimum": _l("Selected for its industry's and county's minimums"),
    "displaced_by_minimum": _l("Within the seats by score, but the seat went to a minimum"),
    "below_cut": _l("Ranked below the selection"),
    "excluded": _l("Out of the running"),
    "ineligible": _l("Not eligible"),
    "review_incomplete": _l("Expert review not complete"),
    "below_pass_mark": _l("Expert score below the pass mark"),
    "score_missing": _l("No verified score"),
}
COMPONENTS = {
    "c_verified": _l("verified C"),
    "industry_percentile": _l("industry percentile"),
    "expert": _l("expert score"),
}
EXCLUDED = {
    "withdrawn": _l("withdrawn"),
    "pre_review_rejected": _l("rejected in pre-review"),
    "pre_review_not_passed": _l("not passed in pre-review"),
    "objection_upheld": _l("removed after an objection"),
}
CRITERIA = {
    "demonstration_value": _l("Demonstration value"),
    "measured_results": _l("Measured results"),
    "replicability": _l("Replicability"),
    "security_green": _l("Data security & green"),
    "declaration_quality": _l("Declaration quality"),
    "kpi_improvement": _l("Verified KPI improvement"),
    "technical_depth": _l("Technical depth"),
    "investment_efficiency": _l("Investment efficiency"),
    "documentation": _l("Documentation"),
}
ERRORS = {
    "follow_up_not_open": _l("Follow-up is recorded only for a selected project after the final publication."),
    "acceptance_recorded": _l("The acceptance is already recorded."),
    "no_t1_snapshot": _l("The firm has no assessment after the baseline (T0) on the round's basis yet."),
    "round_not_found": _l("This round does not exist."),
    "application_not_found": _l("This application does not exist."),
    "city_staff_only": _l("Only city-wide staff may do this."),
    "params_frozen": _l("The parameters are frozen: the round is no longer a draft."),
    "bad_transition": _l("The round cannot move to that state from its current one."),
    "round_not_accepting": _l("This round is not accepting applications."),
    "round_closed": _l("The round has closed; the application can no longer be withdrawn."),
    "application_locked": _l("This application can no longer be changed."),
    "return_deadline_passed": _l("The deadline for the correction has passed."),
    "incomplete": _l("Some required fields are missing; see the marked fields."),
    "not_eligible": _l("The firm does not meet every eligibility rule yet; see the checklist."),
    "pre_review_closed": _l("Pre-review is closed for this round."),
    "not_awaiting_review": _l("This application is not awaiting pre-review."),
    "bad_decision": _l("Choose a decision."),
    "reason_required": _l("Give a reason."),
    "deadline_required": _l("Give a deadline for the correction, today or later."),
    "invalid_params": _l("Some parameters are not valid; see the marked fields."),
    "closes_before_opens": _l("The closing date is before the opening date."),
    "title_taken": _l("Another round of this year and kind already has this title."),
    "assignment_not_found": _l("This assignment does not exist."),
    "not_in_expert_review": _l("The round is not in expert review."),
    "review_closed": _l("This review is already submitted or set aside."),
    "invalid_review": _l("Some scores are not valid; see the marked criteria."),
    "not_ranked_state": _l("A decision is recorded when the round is ranked."),
    "decision_confirmed": _l("The decision is already confirmed."),
    "decision_not_proposed": _l("There is no proposed decision to confirm."),
    "same_person": _l("A second staff member must confirm: you recorded this decision."),
    "inputs_changed": _l("The applications or reviews changed since the decision was recorded; record it again."),
    "no_confirmed_decision": _l("No confirmed decision yet."),
    "calendar_not_covered": _l("The working-day calendar does not cover these dates yet; update chinesecalendar."),
    "publicity_not_over": _l("The public notice period is not over yet."),
    "objections_open": _l("Answer every objection first."),
    "not_in_publicity": _l("The round is not in public notice."),
    "publicity_over": _l("The public notice period is over."),
    "entry_not_found": _l("This entry is not in the public notice."),
    "objection_answered": _l("This objection is already answered."),
    "objection_not_found": _l("This objection does not exist."),
}
FIELD_PROBLEMS = {
    "required": _l("This field is required."),
    "declaration_too_short": _l("Write at least 20 characters."),
    "reason_too_short": _l("Write at least 10 characters."),
    "closes_before_opens": _l("The closing date is before the opening date."),
    "title_taken": _l("This title is taken: choose another."),
    "deadline_in_future": _l("Give a date today or later."),
    "out_of_range": _l("The value is out of range."),
    "not_number": _l("Enter a number."),
    "criterion_missing": _l("Score this criterion."),
    "score_out_of_range": _l("The score is out of range."),
    "score_not_number": _l("Enter a number."),
    "not_in_future": _l("Give a date today or earlier."),
}

RULES = {
    "verified_on_site": _l("Verified on site by the bureau"),
    "assessed": _l("Self-assessment submitted"),
    "recent": _l("Assessment recent enough"),
    "min_maturity": _l("Maturity index M"),
    "min_dimension": _l("Lowest maturity dimension"),
    "min_confidence": _l("Confidence index K"),
    "min_evidence": _l("Evidence coverage E_high"),
    "max_trust_gap": _l("Trust gap (self M − verified M)"),
    "consent": _l("Consent"),
}
CONSENTS = {
    "share_with_bureau": _l("share the application with the bureau"),
    "publish_results": _l("publish the firm's name and score in the public notice"),
}

ACTIONS = {
    "start_assessment": _l("Start a self-assessment"),
    "request_verification": _l("Request on-site verification"),
    "reassess": _l("Re-assess"),
    "upload_evidence": _l("Upload evidence"),
    "give_consent": _l("Give the consent in the application"),
    "contact_bureau": _l("Contact the bureau"),
}


def _number(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.1f}".rstrip("0").rstrip(".")
    return str(value)


def rule_message(result: engine.RuleResult, dimension_names: dict[str, str] | None = None) -> str:
    """Translate one checklist line's message key with its values (e.g. "最低维度 设计 38 < 40")."""
    p = {k: _number(v) for k, v in dict(result.params).items()}
    if "dimension" in p and dimension_names:
        p["dimension"] = dimension_names.get(p["dimension"], p["dimension"])
    messages = {
        "verified_on_site": _("Verified on site on %(date)s.", date=p.get("date", "")),
        "not_verified": _("Needs on-site verification by the bureau."),
        "no_assessment": _("No submitted assessment yet."),
        "assessed": _("Self-assessment submitted."),
        "recent": _("Dated %(date)s, within the period.", date=p.get("date", "")),
        "too_old": _(
            "Dated %(date)s, older than %(months)s months.", date=p.get("date", ""), months=p.get("months", "12")
        ),
        "snapshot_after_reference_date": _("Dated after the round's reference date."),
        "min_maturity_met": _("M %(value)s ≥ %(required)s", **_vr(p)),
        "min_maturity_below": _("M %(value)s < %(required)s", **_vr(p)),
        "min_dimension_met": _("%(dimension)s %(value)s ≥ %(required)s", dimension=p.get("dimension", ""), **_vr(p)),
        "min_dimension_below": _(
            "Lowest dimension %(dimension)s %(value)s < %(required)s", dimension=p.get("dimension", ""), **_vr(p)
        ),
        "dimension_not_scored": _("Dimension %(dimension)s is not scored.", dimension=p.get("dimension", "")),
        "min_confidence_met": _("K %(value)s ≥ %(required)s", **_vr(p)),
        "min_confidence_below": _("K %(value)s < %(required)s", **_vr(p)),
        "min_evidence_met": _("E_high %(value)s%% ≥ %(required)s%%", **_vr(p)),
        "min_evidence_below": _("E_high %(value)s%% < %(required)s%%", **_vr(p)),
        "evidence_not_needed": _("No claim needs evidence."),
        "max_trust_gap_met": _("Gap %(value)s ≤ %(required)s", **_vr(p)),
        "max_trust_gap_above": _("Gap %(value)s > %(required)s", **_vr(p)),
        "needs_verification": _("Known only after on-site verification."),
        "not_scored": _("Not scored."),
        "consent_given": _("Given: %(consent)s.", consent=CONSENTS.get(str(result.subject), result.subject or "")),
        "consent_missing": _("Missing: %(consent)s.", consent=CONSENTS.get(str(result.subject), result.subject or "")),
    }
    return messages.get(result.message, result.message)


def _vr(p: dict[str, str]) -> dict[str, str]:
    return {"value": p.get("value", "–"), "required": p.get("required", "–")}


def action_link(action: str | None, round_id: Any) -> tuple[str, str] | None:
    """Return (label, URL) of the page that fixes a failed rule."""
    if action is None:
        return None
    targets = {
        "start_assessment": url_for("assessments.index"),
        "reassess": url_for("assessments.index"),
        "upload_evidence": url_for("assessments.index"),
        "request_verification": url_for("assessments.index"),
        "give_consent": url_for("programme.apply", round_id=round_id),
        "contact_bureau": url_for("programme.method", round_id=round_id),
    }
    return str(ACTIONS.get(action, action)), targets.get(action, url_for("assessments.index"))
