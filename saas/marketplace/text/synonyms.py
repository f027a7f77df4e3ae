"""The curated industry synonym table: loading, normalising and looking up equivalent spellings.

Synonyms expand queries only (documents are indexed as written), so editing ``data/synonyms.tsv`` needs no reindex.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_PATH = Path(__file__).with_name("data") / "synonyms.tsv"
KINDS = ("term", "unit", "code")
MAX_ALTERNATIVES = 16  # synonym combinations kept per query term
_QUANTITY = re.compile(r"(\d+(?:\.\d+)*)([^\W\d_]+)")  # "19mm" → "19", "mm"
_NUMBER = re.compile(r"\d+(?:\.\d+)*")


@dataclass(frozen=True)
class SynonymRow:
    """One line of the table: an industry, a kind (term, unit or code) and its equivalent spellings."""

    industry: str
    kind: str
    members: tuple[str, ...]


def load_rows(path: Path = DEFAULT_PATH) -> list[SynonymRow]:
    """Read the tab-separated synonym file, skipping blank lines and # comments."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        industry, kind, *members = (cell.strip() for cell in line.split("\t"))
        if kind not in KINDS or len(members) < (1 if kind == "code" else 2):
            raise ValueError(f"{path.name}:{number}: need industry, kind in {KINDS} and enough members")
        rows.append(SynonymRow(industry, kind, tuple(members)))
    return rows


@dataclass(frozen=True)
class SynonymTable:
    """Normalised lookups: every spelling maps to its whole group, the spelling itself first."""

    cjk: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    latin: Mapping[tuple[str, ...], tuple[str, ...]] = field(default_factory=dict)
    units: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    cjk_units: tuple[str, ...] = ()  # the CJK spellings among the units, longest first
    codes: frozenset[str] = frozenset()

    @classmethod
    def build(
        cls, rows: Iterable[SynonymRow], normalise: Callable[[str], str], is_cjk: Callable[[str], bool]
    ) -> SynonymTable:
        """Normalise the rows and index each spelling as a CJK phrase or a sequence of Latin words."""
        cjk: dict[str, tuple[str, ...]] = {}
        latin: dict[tuple[str, ...], tuple[str, ...]] = {}
        units: dict[str, tuple[str, ...]] = {}
        codes: set[str] = set()
        for row in rows:
            group = tuple(dict.fromkeys(normalise(member) for member in row.members))
            if row.kind == "code":
                codes.update(group)
                continue
            for member in group:
                others = (member, *(other for other in group if other != member))
                if row.kind == "unit":
                    units[member] = others
                elif all(is_cjk(char) for char in member):
                    cjk[member] = _merge(cjk.get(member), others)
                elif all(char.isalnum() and not is_cjk(char) for char in member.replace(" ", "")):
                    latin[tuple(member.split(" "))] = _merge(latin.get(tuple(member.split(" "))), others)
        cjk_units = sorted((unit for unit in units if all(map(is_cjk, unit))), key=len, reverse=True)
        return cls(cjk, latin, units, tuple(cjk_units), frozenset(codes))

    def spellings(self, runs: list[tuple[str, str]], index: int) -> tuple[int, str, list[str]]:
        """How many query runs the next term spans, its text, and its spellings, the literal one first.

        ``runs`` are ("cjk" | "word", text) pairs; a number followed by a CJK unit shortens ``runs[index + 1]``.
        """
        kind, run = runs[index]
        if kind == "cjk":
            combos = itertools.product(*self.split_cjk(run))
            return 1, run, ["".join(combo) for combo in itertools.islice(combos, MAX_ALTERNATIVES)]
        quantity = self._quantity(runs, index)
        if quantity:
            return quantity
        words = [word for _kind, word in itertools.takewhile(lambda item: item[0] == "word", runs[index:])]
        size, group = self.match_words(words)
        if size:
            return size, group[0], list(group)
        codes = [code for _offset, code in self.split_codes(run) or ()]
        return 1, run, [run, " ".join(codes)] if codes else [run]

    def _quantity(self, runs: list[tuple[str, str]], index: int) -> tuple[int, str, list[str]] | None:
        """A number with a unit ("19mm", "19 momme", "19姆米…") spelled with every equivalent unit.

        Each spelling is the number and the unit as separate words, which also matches the glued form: "19mm" is
        indexed as 19mm, 19 and mm.
        """
        glued = _QUANTITY.fullmatch(runs[index][1])
        if glued and glued[2] in self.units:
            (number, unit), consumed = glued.groups(), 1
        elif _NUMBER.fullmatch(runs[index][1]) and index + 1 < len(runs):
            number, (kind, following) = runs[index][1], runs[index + 1]
            if kind == "cjk":
                unit = next((unit for unit in self.cjk_units if following.startswith(unit)), "")
            else:
                unit = following if following in self.units and following not in self.cjk_units else ""
            if not unit:
                return None
            consumed = 1 if following != unit else 2
            runs[index + 1] = (kind, following[len(unit) :])
        else:
            return None
        return consumed, number + unit, [f"{number} {form}" for form in self.units[unit]]

    def split_cjk(self, run: str) -> list[tuple[str, ...]]:
        """Cut a CJK run into segments of equivalent spellings, taking the longest synonym at each position."""
        longest = max(map(len, self.cjk), default=0)
        segments: list[tuple[str, ...]] = []
        literal_start = position = 0
        while position < len(run):
            size = next(
                (
                    n
                    for n in range(min(longest, len(run) - position), 1, -1)
                    if run[position : position + n] in self.cjk
                ),
                0,
            )
            if not size:
                position += 1
                continue
            if literal_start < position:
                segments.append((run[literal_start:position],))
            segments.append(self.cjk[run[position : position + size]])
            position = literal_start = position + size
        if literal_start < len(run):
            segments.append((run[literal_start:],))
        return segments

    def match_words(self, words: Sequence[str]) -> tuple[int, tuple[str, ...]]:
        """The longest Latin synonym phrase at the start of ``words``: how many words it spans and its group."""
        for size in range(min(len(words), max(map(len, self.latin), default=0)), 0, -1):
            group = self.latin.get(tuple(words[:size]))
            if group:
                return size, group
        return 0, ()

    def split_codes(self, word: str) -> list[tuple[int, str]] | None:
        """Offsets and parts of a letters-only word made of two or more known codes ("oempu"), else None."""
        if not self.codes or len(word) < 4:
            return None
        parts = self._codes_from(word, 0)
        return parts if parts and len(parts) > 1 else None

    def _codes_from(self, word: str, start: int) -> list[tuple[int, str]] | None:
        if start == len(word):
            return []
        for end in range(len(word), start, -1):
            if word[start:end] in self.codes:
                rest = self._codes_from(word, end)
                if rest is not None:
                    return [(start, word[start:end]), *rest]
        return None


def _merge(old: tuple[str, ...] | None, new: tuple[str, ...]) -> tuple[str, ...]:
    """Union of two groups for a spelling listed in more than one row, keeping the first order."""
    return tuple(dict.fromkeys((*(old or ()), *new)))
