"""Define the bilingual text every user-facing string of an instrument or result is written in."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Text:
    """A bilingual text; every user-facing string in an instrument has both languages."""

    zh: str
    en: str

    def get(self, lang: str) -> str:
        """Return the text in ``lang`` ("zh" or "en"), falling back to Chinese."""
        return self.en if lang == "en" else self.zh
