"""The base form and the input rules every form shares.

``BaseForm``: localised WTForms messages, whitespace stripped from every text field, and control characters (NUL …)
refused in every text field before any other validator (or the database) sees them. ``read_decimal``/``parse_decimal``
with ``Bounds``: the one parser of typed numbers (finite, within bounds that fit the database column, at most so many
decimals); ``NumberField`` is that parser as a form field.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from flask import abort, request
from flask_babel import format_decimal, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.i18n import get_translations
from wtforms.widgets import NumberInput


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


# --- control characters ----------------------------------------------------------------------------------------------

# C0 and C1 controls and DEL; multi-line text keeps tab, line feed and carriage return. PostgreSQL cannot store NUL in
# text at all (the statement fails), and the others are invisible in the interface, in exports and in emails.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Shown on a field whose control characters BaseForm removed (the field shows the cleaned text).
CONTROL_MESSAGE = _l("Invisible control characters (such as NUL) were removed here: check the text and send again.")


def has_control_characters(text: str | None, *, multiline: bool = False) -> bool:
    """Whether ``text`` holds a control character (tab and line breaks are allowed in ``multiline`` text)."""
    return bool(text) and (_CONTROL_MULTILINE if multiline else _CONTROL).search(text) is not None


def without_control_characters(text: str, *, multiline: bool = False) -> str:
    """``text`` with its control characters removed (for values that are logged or stored, never refused)."""
    return (_CONTROL_MULTILINE if multiline else _CONTROL).sub("", text)


def refuse_control_characters_in_query() -> None:
    """``before_request``: a query string with NUL or another control character (tab and line breaks aside) is a 400.

    Searches, filters and API arguments are read from the query without a form; no browser sends these characters,
    and PostgreSQL would fail on a NUL in a search.
    """

    for key, values in request.args.lists():
        if has_control_characters(key, multiline=True) or any(
            has_control_characters(v, multiline=True) for v in values
        ):
            abort(400)


class BaseForm(FlaskForm):
    """All forms derive from this; it never carries tenant or owner fields."""

    class Meta:
        def bind_field(self, form: Any, unbound_field: Any, options: dict[str, Any]) -> Any:
            if issubclass(unbound_field.field_class, StringField):
                options["filters"] = (*unbound_field.kwargs.get("filters", ()), _strip)
            return unbound_field.bind(form=form, **options)

        def get_translations(self, form: Any) -> Any:
            locale = get_locale()
            return get_translations([str(locale)] if locale else None)

    def validate(self, extra_validators: Any = None) -> bool:
        """Refuse control characters in every text field (tab and line breaks only in text areas).

        They are removed from the field's data *before* the other validators run, so that none of them (an email
        uniqueness check, a USCC lookup) sends a NUL to the database; the field then shows its message and the
        cleaned text, and the form is invalid.
        """
        refused = []
        for field in self:
            if field.type == "CSRFTokenField" or not isinstance(field, StringField) or not isinstance(field.data, str):
                continue
            multiline = isinstance(field, TextAreaField)
            if has_control_characters(field.data, multiline=multiline):
                field.data = without_control_characters(field.data, multiline=multiline)
                refused.append(field)
        valid = super().validate(extra_validators)
        for field in refused:
            field.errors = [str(CONTROL_MESSAGE), *field.errors]
        return valid and not refused


class ConfirmForm(BaseForm):
    """A form with only the CSRF token, for POST buttons."""


def choices_from(mapping: dict[str, Any]) -> list[SelectChoice]:
    """Turn a ``code → lazy label`` mapping into select choices (labels translate at render time)."""
    return [SelectChoice(code, label) for code, label in mapping.items()]


# --- numbers ---------------------------------------------------------------------------------------------------------


def column_max(precision: int, scale: int) -> Decimal:
    """The largest value a ``Numeric(precision, scale)`` column holds: ``Numeric(14, 3)`` → 99999999999.999."""
    return Decimal(10) ** (precision - scale) - Decimal(10) ** -scale


@dataclass(frozen=True)
class Bounds:
    """The numbers an input accepts: from ``low`` to ``high`` with at most ``places`` decimals (0: whole numbers).

    Choose them so that every accepted value fits its column exactly: ``Numeric(14, 3)`` holds up to
    99,999,999,999.999 with three decimals, and a value with more decimals would be rounded (``1e-400`` to 0).
    """

    low: Decimal
    high: Decimal
    places: int

    @classmethod
    def column(cls, precision: int, scale: int, *, low: Decimal | int | str | None = None) -> Bounds:
        """Everything a positive ``Numeric(precision, scale)`` column holds (or from ``low``)."""
        smallest = Decimal(10) ** -scale
        return cls(Decimal(low) if low is not None else smallest, column_max(precision, scale), scale)


QUANTITY = Bounds.column(14, 3)  # MOQs, order multiples, tier and RFQ quantities: Numeric(14, 3)
PRICE = Bounds.column(14, 2)  # unit prices in yuan: Numeric(14, 2)
WHOLE_DAYS = Bounds(Decimal(0), Decimal(365), 0)  # lead times
EMPLOYEES = Bounds(Decimal(1), Decimal(1_000_000), 0)
PERCENT = Bounds(Decimal(0), Decimal(100), 2)
REVENUE_WAN = Bounds(Decimal(0), Decimal(100_000_000), 2)  # 10,000 yuan; Numeric(14, 2) would hold more
MAX_NUMBER_CHARS = 40  # longer text is no number a person types (and is refused before Decimal sees it)


class NumberRejected(ValueError):
    """Typed text that is not an acceptable number; ``code``: not_a_number, below_min, above_max, too_many_places."""

    def __init__(self, code: str, bounds: Bounds | None) -> None:
        super().__init__(code)
        self.code = code
        self.bounds = bounds

    @property
    def message(self) -> str:
        """A localised sentence that says what is accepted."""

        bounds = self.bounds
        if self.code == "too_many_places" and bounds is not None:
            if bounds.places == 0:
                return _("Enter a whole number.")
            return _("Use at most %(n)d decimal places.", n=bounds.places)
        if self.code in ("below_min", "above_max") and bounds is not None:
            return _(
                "Enter a number from %(low)s to %(high)s.",
                low=format_decimal(bounds.low, format="#,##0.###"),
                high=format_decimal(bounds.high, format="#,##0.###"),
            )
        return _("Enter a number, e.g. 1200 or 35.5.")


def read_decimal(text: str | None, bounds: Bounds | None = None) -> Decimal | None:
    """The number typed in ``text`` (None when it is empty), checked against ``bounds``; else NumberRejected.

    Accepted: digits with an optional sign, decimal point and exponent, full-width digits, thousands separators
    (``1,000`` or ``1，000``). Refused: NaN, sNaN, Infinity, anything longer than 40 characters, control characters,
    and with ``bounds`` anything outside them or with more decimals than the column keeps. ``-0`` is 0; an exponent is
    written out (``1E+2`` → 100).
    """
    raw = unicodedata.normalize("NFKC", text or "").strip().replace(",", "")
    if not raw:
        return None
    if len(raw) > MAX_NUMBER_CHARS:
        raise NumberRejected("not_a_number", bounds)
    try:
        value = Decimal(raw)
    except (InvalidOperation, ValueError):
        raise NumberRejected("not_a_number", bounds) from None
    if not value.is_finite():
        raise NumberRejected("not_a_number", bounds)
    if value.is_zero():
        value = abs(value)  # -0 and 0E+5 are 0
    if bounds is not None:
        if value > bounds.high:
            raise NumberRejected("above_max", bounds)
        if value < bounds.low and value <= 0:
            raise NumberRejected("below_min", bounds)
        # a positive value below the bounds (1e-400 for a quantity) has too many decimals for the column: say so
        if value != value.quantize(Decimal(1).scaleb(-bounds.places)):
            raise NumberRejected("too_many_places", bounds)
        if value < bounds.low:
            raise NumberRejected("below_min", bounds)
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent > 0 and abs(value) < Decimal("1e30"):
        value = value.quantize(Decimal(1))
    return value


def parse_decimal(text: str | None, bounds: Bounds | None = None) -> Decimal | None:
    """``read_decimal`` for callers that only need "a number or not": None for empty and for refused text."""
    try:
        return read_decimal(text, bounds)
    except NumberRejected:
        return None


class NumberField(Field):
    """A number typed as text and read by ``read_decimal`` within ``bounds``; ``data`` is a Decimal (an int for whole
    numbers) or None. A refused value keeps what was typed and shows ``NumberRejected.message`` next to the field."""

    widget = NumberInput(step="any")

    def __init__(self, label: Any = None, validators: Any = None, *, bounds: Bounds, **kwargs: Any) -> None:
        super().__init__(label, validators, **kwargs)
        self.bounds = bounds

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist:
            return
        try:
            value = read_decimal(str(valuelist[0]), self.bounds)
        except NumberRejected as exc:
            self.data = None
            raise ValueError(exc.message) from None
        self.data = int(value) if value is not None and self.bounds.places == 0 else value

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        return "" if self.data is None else str(self.data)
