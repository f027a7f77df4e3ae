"""Localised names of the active instrument's maturity dimensions (for bureau tables)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from saas.assessments.instruments import active_instrument, engine_instrument
from saas.web.lang import ui_lang


def dimension_names(dbs: Session) -> dict[str, str]:
    """Return ``{dimension id: name}`` of the active instrument's maturity dimensions, in the current language."""
    instrument = engine_instrument(active_instrument(dbs))
    lang = ui_lang()
    return {d.id: d.name.get(lang) for d in instrument.dimensions if d.role == "maturity"}
