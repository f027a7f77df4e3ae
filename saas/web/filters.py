"""Template filters shared by every page: localised dates and numbers, quantities and sale-unit labels."""

from __future__ import annotations

from decimal import Decimal

from flask import Flask
from flask_babel import format_date, format_datetime, format_decimal

from saas.marketplace.catalog import default_catalog
from saas.marketplace.catalog.attributes import format_number
from saas.web.lang import ui_lang


def quantity(value: object) -> str:
    """A quantity without exponent or trailing zeros: Decimal('200.000') -> '200', 1.50 -> '1.5'."""
    return format_number(value) if isinstance(value, int | float | Decimal) else ""


def sale_unit_label(unit_id: str) -> str:
    """The label of a sale unit id ('m' -> '米' or 'm') in the interface language."""
    try:
        unit = default_catalog().sale_unit(unit_id)
    except (KeyError, ValueError):
        return unit_id
    return unit.label.get(ui_lang())


def register_filters(app: Flask) -> None:
    """Install the filters on ``app``'s Jinja environment."""
    app.jinja_env.filters["date"] = lambda value, fmt="medium": format_date(value, fmt) if value else ""
    app.jinja_env.filters["datetime"] = lambda value, fmt="medium": format_datetime(value, fmt) if value else ""
    app.jinja_env.filters["decimal"] = lambda value: format_decimal(value) if value is not None else ""
    app.jinja_env.filters["qty"] = quantity
    app.jinja_env.filters["unit"] = sale_unit_label
