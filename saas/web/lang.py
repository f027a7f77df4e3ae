"""The interface language, as the data-language code the catalogue, the engine and the workbooks use."""

from __future__ import annotations

from flask_babel import get_locale


def ui_lang() -> str:
    """Return ``"en"`` when the interface is in English, else ``"zh"`` (the default, also outside a request)."""
    locale = get_locale()
    return "en" if locale is not None and locale.language == "en" else "zh"
