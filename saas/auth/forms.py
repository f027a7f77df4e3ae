"""Forms for login, two-factor, registration, password reset and invitations."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from wtforms import EmailField, PasswordField, SelectField, StringField
from wtforms.validators import (
    DataRequired,
    Email,
    EqualTo,
    InputRequired,
    Length,
    Optional,
    Regexp,
    ValidationError,
)

from saas.auth.services import find_user
from saas.core.extensions import db
from saas.core.security import password_problem
from saas.models import Firm
from saas.reference import COUNTIES, INDUSTRIES, uscc_problem
from saas.web.forms import EMPLOYEES, REVENUE_WAN, BaseForm, NumberField, choices_from


class LoginForm(BaseForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=128)])


class TwoFactorForm(BaseForm):
    code = StringField(
        _l("Six-digit code from your authenticator app"),
        validators=[DataRequired(), Regexp(r"^\s*\d{3}\s?\d{3}\s*$", message=_l("Enter the 6 digits."))],
        render_kw={"inputmode": "numeric", "autocomplete": "one-time-code"},
    )


class _NewPasswordMixin:
    """A new password with confirmation, checked against the policy."""

    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(), Length(max=128)],
        description=_l("At least 8 characters. A long phrase is easier to remember and harder to guess."),
        render_kw={"autocomplete": "new-password"},
    )
    password_confirm = PasswordField(
        _l("Repeat the password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The two passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )

    def validate_password(self, field: Any) -> None:
        email = getattr(self, "email", None)
        problem = password_problem(field.data or "", email=email.data if email is not None else "")
        if problem:
            raise ValidationError(problem)


class _UniqueEmailMixin:
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=254)])

    def validate_email(self, field: Any) -> None:

        if find_user(db.session, field.data or "") is not None:
            raise ValidationError(_l("An account with this email already exists. Log in or reset your password."))


class FirmRegistrationForm(_UniqueEmailMixin, _NewPasswordMixin, BaseForm):
    firm_name = StringField(_l("Firm name"), validators=[DataRequired(), Length(min=2, max=100)])
    uscc = StringField(
        _l("Unified social credit code (USCC)"),
        validators=[DataRequired()],
        description=_l("18 characters, as printed on the business licence."),
        render_kw={"maxlength": 18, "autocapitalize": "characters", "spellcheck": "false"},
    )
    industry = SelectField(_l("Industry"), choices=choices_from(INDUSTRIES), validators=[InputRequired()])
    county = SelectField(_l("County / district"), choices=choices_from(COUNTIES), validators=[InputRequired()])
    park = StringField(_l("Industrial park (optional)"), validators=[Optional(), Length(max=100)])
    employees = NumberField(_l("Employees"), validators=[InputRequired()], bounds=EMPLOYEES, render_kw={"min": 1})
    revenue_wan = NumberField(
        _l("Annual revenue (10,000 yuan)"),
        bounds=REVENUE_WAN,
        validators=[InputRequired()],
        description=_l("Used with the number of employees to derive the size class (micro, small, medium, large)."),
        render_kw={"min": 0, "step": "0.01"},
    )
    contact_name = StringField(_l("Contact person"), validators=[DataRequired(), Length(max=50)])
    contact_phone = StringField(
        _l("Contact phone (optional)"),
        validators=[Optional(), Regexp(r"^[0-9+\- ]{7,20}$", message=_l("Enter a valid phone number."))],
    )
    owner_name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=100)])

    def validate_uscc(self, field: Any) -> None:

        problem = uscc_problem(field.data or "")
        if problem:
            raise ValidationError(problem)
        field.data = field.data.strip().upper()
        if db.session.scalar(select(Firm.id).where(Firm.uscc == field.data)) is not None:
            raise ValidationError(_l("A firm with this USCC is already registered. Ask its owner to invite you."))


class BuyerRegistrationForm(_UniqueEmailMixin, _NewPasswordMixin, BaseForm):
    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=100)])
    company = StringField(_l("Company (optional)"), validators=[Optional(), Length(max=100)])


class ForgotPasswordForm(BaseForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Email(), Length(max=254)])


class ResetPasswordForm(_NewPasswordMixin, BaseForm):
    pass


class AcceptInvitationForm(_NewPasswordMixin, BaseForm):
    name = StringField(_l("Your name"), validators=[DataRequired(), Length(max=100)])
