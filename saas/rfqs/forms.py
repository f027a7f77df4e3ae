"""Forms of the RFQ pages: the buyer's request and the supplier's quote.

Numbers and dates are typed as text and parsed here, so that what was typed is kept and every problem gets a clear,
translated message (``1,000`` and ``1，000`` are accepted).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, ValidationError

from saas.core.limits import LOCAL_TZ
from saas.marketplace.catalog import Catalog, default_catalog
from saas.rfqs import services
from saas.web.forms import PRICE, QUANTITY, WHOLE_DAYS, BaseForm, Bounds, NumberRejected, read_decimal

DATETIME_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S")
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d")


def parse_local_datetime(text: str | None) -> datetime | None:
    """A Jiaxing-time date and time (a date alone means the end of that day) as an aware datetime, or None."""
    text = (text or "").strip()
    for fmt in DATETIME_FORMATS:
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=LOCAL_TZ)
        except ValueError:
            continue
    parsed = parse_date(text)
    if parsed is not None:
        return datetime.combine(parsed, time(23, 59), tzinfo=LOCAL_TZ)
    return None


def parse_date(text: str | None) -> date | None:
    text = (text or "").strip()
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def category_choices(catalog: Catalog, lng: str) -> list[SelectChoice]:
    """Every category at any level, grouped by industry and indented by depth."""
    choices = [SelectChoice("", str(_l("Choose a category")))]
    for industry in catalog.industries:
        group = industry.label.get(lng)
        for category in catalog.categories(industry.id):
            indent = "\u3000" * (category.depth - 1)
            choices.append(SelectChoice(category.slug, indent + category.label.get(lng), optgroup=group))
    return choices


def _price(text: str | None, no_price: Any) -> Decimal:
    """A unit price in yuan (``Numeric(14, 2)``: up to 999,999,999,999.99, two decimals) or ValidationError."""
    try:
        value = read_decimal(text, PRICE)
    except NumberRejected as exc:
        if exc.code in ("above_max", "too_many_places"):
            raise ValidationError(_l("Enter a price in yuan with at most two decimals.")) from None
        value = None
    if value is None:
        raise ValidationError(no_price)
    return value


class RfqForm(BaseForm):
    """The buyer's request for quotation. Call ``to_input()`` after ``validate_on_submit()``."""

    category_slug = SelectField(
        _l("Category"), validators=[DataRequired(message=_l("Choose a category from the list."))], validate_choice=False
    )
    title = StringField(
        _l("Title"),
        validators=[DataRequired(message=_l("Enter a short title.")), Length(min=4, max=120)],
        description=_l("What you need, in a few words, e.g. 19 momme silk crepe de chine, natural white."),
    )
    description = TextAreaField(
        _l("Description"),
        validators=[DataRequired(message=_l("Describe what you need.")), Length(min=10, max=5000)],
        description=_l("Specifications, quality, packaging, delivery place and anything suppliers should know."),
    )
    quantity = StringField(_l("Quantity"), validators=[DataRequired(message=_l("Enter a quantity greater than zero."))])
    unit = SelectField(
        _l("Unit"),
        validators=[DataRequired(message=_l("Choose one of the units of this category."))],
        validate_choice=False,
    )
    target_price = StringField(
        _l("Target unit price (CNY, optional)"),
        description=_l("Suppliers see it; leave it empty to ask for their best price."),
    )
    deadline = StringField(
        _l("Deadline for quotes"),
        validators=[DataRequired(message=_l("Enter a date and time, e.g. 2026-12-31 17:00."))],
        render_kw={"type": "datetime-local"},
        description=_l("Jiaxing time, at most 90 days ahead."),
    )

    def __init__(self, *args: Any, now: datetime, lng: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.now = now
        self.catalog = default_catalog()
        self.category_slug.choices = category_choices(self.catalog, lng)
        chosen = self.catalog.get(self.category_slug.data or "")
        units = services.units_for(chosen.slug, self.catalog) if chosen is not None else self.catalog.sale_units
        self.unit.choices = [SelectChoice("", str(_l("Choose a unit")))] + [
            SelectChoice(u.id, u.label.get(lng)) for u in units
        ]
        if not self.deadline.data and not self.is_submitted():
            local = (now + timedelta(days=14)).astimezone(LOCAL_TZ)
            self.deadline.data = local.strftime("%Y-%m-%dT17:00")
        self.parsed: dict[str, Any] = {}

    def validate_category_slug(self, field: Any) -> None:
        if self.catalog.get(field.data or "") is None:
            raise ValidationError(_l("Choose a category from the list."))

    def validate_unit(self, field: Any) -> None:
        category = self.catalog.get(self.category_slug.data or "")
        if category is None:
            raise ValidationError(_l("Choose a category first, then its unit."))
        if field.data not in {u.id for u in services.units_for(category.slug, self.catalog)}:
            raise ValidationError(_l("Choose one of the units of this category."))

    def validate_quantity(self, field: Any) -> None:
        try:
            decimals = min(self.catalog.sale_unit(self.unit.data or "").decimals, QUANTITY.places)
        except KeyError:
            decimals = QUANTITY.places
        try:
            value = read_decimal(field.data, Bounds(QUANTITY.low, QUANTITY.high, decimals))
        except NumberRejected as exc:
            if exc.code == "above_max":
                raise ValidationError(_l("The quantity is too large.")) from None
            if exc.code == "too_many_places" and decimals == 0:
                raise ValidationError(_l("Enter a whole number for this unit.")) from None
            if exc.code == "too_many_places":
                raise ValidationError(_l("This unit allows at most %(n)s decimal places.", n=decimals)) from None
            value = None
        if value is None:
            raise ValidationError(_l("Enter a quantity greater than zero."))
        self.parsed["quantity"] = value

    def validate_target_price(self, field: Any) -> None:
        if not field.data:
            self.parsed["target_price"] = None
            return
        self.parsed["target_price"] = _price(
            field.data, _l("Enter a price greater than zero, or leave the field empty.")
        )

    def validate_deadline(self, field: Any) -> None:
        value = parse_local_datetime(field.data)
        if value is None:
            raise ValidationError(_l("Enter a date and time, e.g. 2026-12-31 17:00."))
        earliest, latest = services.deadline_bounds(self.now)
        if value <= earliest:
            raise ValidationError(_l("The deadline must be in the future."))
        if value > latest:
            raise ValidationError(_l("The deadline can be at most %(n)s days ahead.", n=services.MAX_DEADLINE_DAYS))
        self.parsed["deadline"] = value

    def to_input(self) -> services.RfqInput:
        return services.RfqInput(
            category_slug=self.category_slug.data,
            title=" ".join(self.title.data.split()),  # one line: it becomes part of email subjects
            description=self.description.data,
            quantity=self.parsed["quantity"],
            unit=self.unit.data,
            target_price=self.parsed["target_price"],
            deadline=self.parsed["deadline"],
        )


class QuoteForm(BaseForm):
    """The supplier's quote. Call ``to_input()`` after ``validate_on_submit()``."""

    unit_price = StringField(
        _l("Unit price (CNY)"), validators=[DataRequired(message=_l("Enter a price greater than zero."))]
    )
    lead_time_days = StringField(
        _l("Lead time (days)"),
        validators=[DataRequired(message=_l("Enter whole days from 0 to 365."))],
        render_kw={"inputmode": "numeric"},
    )
    valid_until = StringField(
        _l("Valid until"),
        validators=[DataRequired(message=_l("Enter a date, e.g. 2026-12-31."))],
        render_kw={"type": "date"},
    )
    message = TextAreaField(
        _l("Message to the buyer (optional)"),
        validators=[Length(max=2000)],
        description=_l("Terms, samples, payment, anything the buyer should know. The buyer sees your firm's name."),
    )

    def __init__(self, *args: Any, now: datetime, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = services.local_date(now)
        if not self.valid_until.data and not self.is_submitted():
            self.valid_until.data = (self.today + timedelta(days=30)).isoformat()
        self.parsed: dict[str, Any] = {}

    def validate_unit_price(self, field: Any) -> None:
        self.parsed["unit_price"] = _price(field.data, _l("Enter a price greater than zero."))

    def validate_lead_time_days(self, field: Any) -> None:
        try:
            value = read_decimal(field.data, WHOLE_DAYS)
        except NumberRejected:
            value = None
        if value is None:
            raise ValidationError(_l("Enter whole days from 0 to 365."))
        self.parsed["lead_time_days"] = int(value)

    def validate_valid_until(self, field: Any) -> None:
        value = parse_date(field.data)
        if value is None:
            raise ValidationError(_l("Enter a date, e.g. 2026-12-31."))
        if value < self.today:
            raise ValidationError(_l("The quote must be valid at least until today."))
        if value > self.today + timedelta(days=services.MAX_VALIDITY_DAYS):
            raise ValidationError(_l("A quote can be valid for at most one year."))
        self.parsed["valid_until"] = value

    def to_input(self) -> services.QuoteInput:
        return services.QuoteInput(
            unit_price=self.parsed["unit_price"],
            lead_time_days=self.parsed["lead_time_days"],
            valid_until=self.parsed["valid_until"],
            message=self.message.data or "",
        )
