"""The base form: localised WTForms messages and whitespace stripped from every text field."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import get_locale
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.fields.choices import SelectChoice
from wtforms.i18n import get_translations


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


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


def choices_from(mapping: dict[str, Any]) -> list[SelectChoice]:
    """Turn a ``code → lazy label`` mapping into select choices (labels translate at render time)."""
    return [SelectChoice(code, label) for code, label in mapping.items()]


def page_number() -> int:
    """Return the ``page`` query argument as a page number (1 for anything missing or malformed)."""
    from flask import request

    try:
        return max(1, int(request.args.get("page", "1")))
    except ValueError:
        return 1


def parse_decimal(text: str | None) -> Decimal | None:
    """A finite decimal from user text (thousands separators, ASCII or full-width, are allowed), or None."""
    try:
        value = Decimal((text or "").strip().replace(",", "").replace("，", ""))
    except InvalidOperation:
        return None
    return value if value.is_finite() else None
