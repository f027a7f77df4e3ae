"""Forms of the firm area: profile, invitations and member roles."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Email, InputRequired, Length, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from saas.reference import CERTIFICATIONS, FIRM_ROLE_LABELS
from saas.web.forms import EMPLOYEES, REVENUE_WAN, BaseForm, NumberField, choices_from


class FirmProfileForm(BaseForm):
    name = StringField(_l("Firm name"), validators=[DataRequired(), Length(min=2, max=100)])
    park = StringField(_l("Industrial park (optional)"), validators=[Optional(), Length(max=100)])
    employees = NumberField(_l("Employees"), validators=[InputRequired()], bounds=EMPLOYEES, render_kw={"min": 1})
    revenue_wan = NumberField(
        _l("Annual revenue (10,000 yuan)"),
        validators=[InputRequired()],
        bounds=REVENUE_WAN,
        render_kw={"min": 0, "step": "0.01"},
    )
    contact_name = StringField(_l("Contact person"), validators=[DataRequired(), Length(max=50)])
    contact_phone = StringField(
        _l("Contact phone (optional)"),
        validators=[Optional(), Regexp(r"^[0-9+\- ]{7,20}$", message=_l("Enter a valid phone number."))],
    )
    certifications = SelectMultipleField(
        _l("Certifications (shown on your public supplier page as declared by the firm)"),
        choices=choices_from(CERTIFICATIONS),
        widget=ListWidget(prefix_label=False),
        option_widget=CheckboxInput(),
        validate_choice=True,
    )


class InviteForm(BaseForm):
    email = EmailField(_l("Colleague's email"), validators=[DataRequired(), Email(), Length(max=254)])
    role = SelectField(_l("Role"), choices=choices_from(FIRM_ROLE_LABELS), default="member")


class RoleForm(BaseForm):
    role = SelectField(_l("Role"), choices=choices_from(FIRM_ROLE_LABELS))
