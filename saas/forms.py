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


def past_last_page(page: int, total: int, per_page: int) -> Any | None:
    """A redirect to the last page when ``page`` lies beyond it (a stale link, or a list that shrank), else None.

    Without it a list would show its empty state ("nothing here yet") while it holds rows on earlier pages. The other
    query arguments are kept; page 1 is the URL without ``page``.
    """
    from urllib.parse import urlencode

    from flask import redirect, request

    last = max(1, -(-total // per_page))
    if page <= last:
        return None
    args = [(k, v) for k, v in request.args.items(multi=True) if k != "page"]
    if last > 1:
        args.append(("page", str(last)))
    return redirect(request.script_root + request.path + (f"?{urlencode(args)}" if args else ""))


def parse_decimal(text: str | None) -> Decimal | None:
    """A finite decimal from user text (thousands separators, ASCII or full-width, are allowed), or None."""
    try:
        value = Decimal((text or "").strip().replace(",", "").replace("，", ""))
    except InvalidOperation:
        return None
    return value if value.is_finite() else None
