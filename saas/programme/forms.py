"""Programme forms: the round (its headline parameters; the engine validates the whole set), the application,
and the county's pre-review decision."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from saas.programme.labels import ROUND_KIND
from saas.web.forms import BaseForm, Bounds, NumberField, choices_from

YEAR = Bounds(2020, 2100, places=0)
SEATS = Bounds(0, 1000, places=0)
POINTS = Bounds(0, 100, places=1)
DAYS = Bounds(5, 60, places=0)


class RoundForm(BaseForm):
    year = NumberField(_l("Year"), [InputRequired()], bounds=YEAR)
    kind = SelectField(_l("Kind"), choices=choices_from(ROUND_KIND), validators=[InputRequired()])
    title = StringField(_l("Title"), [InputRequired(), Length(max=120)])
    opens_on = DateField(_l("Opens on"), [InputRequired()])
    closes_on = DateField(_l("Closes on"), [InputRequired()])
    quota_total = NumberField(_l("Seats (total)"), [InputRequired()], bounds=SEATS)
    industry_minimum = NumberField(_l("Minimum seats per industry"), [InputRequired()], bounds=SEATS)
    county_minimum = NumberField(_l("Minimum seats per county"), [InputRequired()], bounds=SEATS)
    min_maturity = NumberField(_l("Minimum maturity M (empty: no rule)"), [Optional()], bounds=POINTS)
    min_dimension = NumberField(_l("Minimum of every dimension (empty: no rule)"), [Optional()], bounds=POINTS)
    min_evidence = NumberField(_l("Minimum evidence coverage % (empty: no rule)"), [Optional()], bounds=POINTS)
    require_verified = BooleanField(_l("Require on-site verification by the bureau"))
    split_threshold = NumberField(
        _l("Reviewers' difference that brings in a third (points)"), [InputRequired()], bounds=POINTS
    )
    blind = BooleanField(_l("Blind review (experts do not see the firm's name)"))
    exclude_same_county = BooleanField(_l("Exclude experts from the firm's county"))
    publicity_working_days = NumberField(_l("Public notice (公示), working days"), [InputRequired()], bounds=DAYS)

    def fill_from(self, rnd: Any) -> None:
        p = rnd.params
        self.year.data, self.kind.data, self.title.data = rnd.year, rnd.kind, rnd.title
        self.opens_on.data, self.closes_on.data = rnd.opens_on, rnd.closes_on
        self.fill_params(p)

    def fill_params(self, p: dict[str, Any]) -> None:
        self.quota_total.data = p["quotas"]["total"]
        self.industry_minimum.data = p["quotas"]["industry_minimum"]
        self.county_minimum.data = p["quotas"]["county_minimum"]
        self.min_maturity.data = p["eligibility"]["min_maturity"]
        self.min_dimension.data = p["eligibility"]["min_dimension"]
        self.min_evidence.data = p["eligibility"]["min_evidence"]
        self.require_verified.data = p["eligibility"]["require_verified"]
        self.split_threshold.data = p["review"]["split_threshold"]
        self.blind.data = p["review"]["blind"]
        self.exclude_same_county.data = p["review"]["exclude_same_county"]
        self.publicity_working_days.data = p["publicity_working_days"]

    def changes(self) -> dict[str, Any]:
        """The parameter changes the form expresses, nested like ``RoundParams.to_dict``."""

        def num(value: Any) -> Any:
            return None if value is None else float(value) if not isinstance(value, int) else value

        return {
            "quotas": {
                "total": self.quota_total.data,
                "industry_minimum": self.industry_minimum.data,
                "county_minimum": self.county_minimum.data,
            },
            "eligibility": {
                "min_maturity": num(self.min_maturity.data),
                "min_dimension": num(self.min_dimension.data),
                "min_evidence": num(self.min_evidence.data),
                "require_verified": bool(self.require_verified.data),
            },
            "review": {
                "split_threshold": num(self.split_threshold.data),
                "blind": bool(self.blind.data),
                "exclude_same_county": bool(self.exclude_same_county.data),
            },
            "publicity_working_days": self.publicity_working_days.data,
        }


#: Engine parameter paths → the form field that shows their problem.
PARAM_FIELDS = {
    "quotas.total": "quota_total",
    "quotas.industry_minimum": "industry_minimum",
    "quotas.county_minimum": "county_minimum",
    "eligibility.min_maturity": "min_maturity",
    "eligibility.min_dimension": "min_dimension",
    "eligibility.min_evidence": "min_evidence",
    "review.split_threshold": "split_threshold",
    "publicity_working_days": "publicity_working_days",
}


class ApplicationForm(BaseForm):
    declaration = TextAreaField(_l("Declaration"), [Length(max=5000)])
    contact_name = StringField(_l("Contact person"), [Length(max=50)])
    contact_phone = StringField(_l("Contact phone"), [Length(max=30)])
    consent_share = BooleanField(_l("I consent to share this application and its assessment with the bureau"))
    consent_publish = BooleanField(_l("I consent to publish the firm's name, county, industry and score in the 公示"))
    # Project rounds
    project_name = StringField(_l("Project name"), [Length(max=120)])
    project_dimensions = StringField(_l("Targeted dimensions"), [Length(max=200)])
    project_investment_wan = NumberField(
        _l("Planned investment (10,000 yuan)"), [Optional()], bounds=Bounds(0, 10**7, places=2)
    )
    project_schedule = TextAreaField(_l("Schedule"), [Length(max=2000)])
    project_kpis = TextAreaField(_l("Expected KPI outcomes"), [Length(max=2000)])
    project_suppliers = StringField(_l("Suppliers"), [Length(max=300)])

    def project(self) -> dict[str, Any]:
        inv = self.project_investment_wan.data
        return {
            "name": self.project_name.data or "",
            "dimensions": [d.strip() for d in (self.project_dimensions.data or "").split(",") if d.strip()],
            "investment_wan": str(inv) if inv is not None else "",
            "schedule": self.project_schedule.data or "",
            "kpis": self.project_kpis.data or "",
            "suppliers": self.project_suppliers.data or "",
        }

    def fill_from(self, app: Any) -> None:
        self.declaration.data, self.contact_name.data = app.declaration, app.contact_name
        self.contact_phone.data = app.contact_phone
        self.consent_share.data, self.consent_publish.data = app.consent_share, app.consent_publish
        p = app.project or {}
        self.project_name.data = p.get("name", "")
        self.project_dimensions.data = ", ".join(p.get("dimensions", []))
        self.project_investment_wan.data = p.get("investment_wan") or None
        self.project_schedule.data = p.get("schedule", "")
        self.project_kpis.data = p.get("kpis", "")
        self.project_suppliers.data = p.get("suppliers", "")


class PreReviewForm(BaseForm):
    decision = SelectField(
        _l("Decision"),
        choices=choices_from({"pass": _l("Pass"), "return": _l("Return for correction"), "reject": _l("Reject")}),
        validators=[InputRequired()],
    )
    reason = TextAreaField(_l("Reason (required to return or reject)"), [Length(max=500)])
    deadline = DateField(_l("Correction deadline (to return)"), [Optional()])


class FollowUpForm(BaseForm):
    """The acceptance part of the follow-up; the KPI lines (achieved_<i>, met_<i>) are read per promised KPI."""

    acceptance = SelectField(
        _l("Acceptance (验收)"),
        choices=choices_from(
            {"": _l("Not yet: record T1 and the KPIs only"), "passed": _l("Passed"), "not_passed": _l("Not passed")}
        ),
        validators=[Optional()],
    )
    acceptance_on = DateField(_l("Acceptance date"), [Optional()])
    reason = TextAreaField(_l("Reason (required when not passed)"), [Length(max=500)])
