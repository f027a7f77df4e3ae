"""Billing forms: invoice details, voucher redemption and issuing."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, HiddenField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional, Regexp

from saas.web.forms import BaseForm, choices_from

TAX_NUMBER = Regexp(r"^[0-9A-Z]{15,20}$", message=_l("Enter a tax number of 15 to 20 digits or capital letters."))


class InvoiceDetailsForm(BaseForm):
    title = StringField(_l("Invoice title (发票抬头)"), validators=[DataRequired(), Length(min=2, max=100)])
    tax_number = StringField(_l("Tax number (税号)"), validators=[DataRequired(), TAX_NUMBER])
    email = EmailField(_l("Email for the invoice (optional)"), validators=[Optional(), Email(), Length(max=254)])


class RedeemForm(BaseForm):
    code = StringField(
        _l("Voucher code"),
        validators=[DataRequired(), Length(min=12, max=20)],
        render_kw={"placeholder": "JX-XXXX-XXXX-XXXX", "autocomplete": "off"},
    )
    assessment_id = HiddenField()


class CheckoutForm(BaseForm):
    assessment_id = HiddenField()


PRODUCT_CHOICES = choices_from({"pro_pass": _l("Pro yearly pass"), "report": _l("Single full report")})


class IssueVouchersForm(BaseForm):
    product = SelectField(_l("Pays for"), choices=PRODUCT_CHOICES)
    county = SelectField(_l("Funded by county"), choices=[])
    funder_round = StringField(_l("Programme round"), validators=[DataRequired(), Length(max=50)])
    count = IntegerField(_l("Number of vouchers"), validators=[InputRequired(), NumberRange(min=1, max=500)])
    value_yuan = IntegerField(_l("Value of one voucher (yuan)"), validators=[InputRequired(), NumberRange(1, 100000)])
