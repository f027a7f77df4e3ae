"""The marketplace search text pipeline: one normalisation and tokenisation for documents and queries.

CJK text is indexed as single characters plus overlapping bigrams, Latin and digits as words and their pieces; a
query becomes an AND of OR-groups of token sets that any backend can evaluate (docs/search.md).
"""

from __future__ import annotations

import functools
import itertools
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from opencc import OpenCC

from saas.marketplace.text.synonyms import SynonymTable, load_rows

PREFIX = "*"  # a token ending in PREFIX matches every indexed token that starts with the rest
MAX_QUERY_CHARS = 200  # longer queries are cut after normalising
FTS5_TOKENIZE = "ascii tokenchars '.'"  # the FTS5 tokenizer under which every index term is exactly one token
_CJK_RANGES = ((0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x3005, 0x3007), (0x3040, 0x30FF), (0x31F0, 0x31FF))
_CJK_RANGES += ((0xF900, 0xFAFF), (0x20000, 0x3134F))  # most frequent first
_DROPPED = {"Cc", "Cf", "Cs"}  # controls (other than whitespace), invisible format characters, lone surrogates
_converter = functools.cache(functools.partial(OpenCC, "t2s"))  # loaded on first use

Alternative = tuple[str, ...]
Group = tuple[Alternative, ...]


def is_cjk(char: str) -> bool:
    """Whether a character is written without spaces between words (Han ideographs, kana, 〇, 々)."""
    code = ord(char)
    return code >= 0x3005 and char.isalnum() and any(low <= code <= high for low, high in _CJK_RANGES)


def normalise(text: str) -> str:
    """NFKC, lower-case, strip Latin accents, Traditional → Simplified Chinese, collapse whitespace."""
    return _align(text)[0]


def index_terms(text: str) -> list[str]:
    """The tokens to index for one document field, in text order, repeats kept for term frequency."""
    return _terms_of(_runs(normalise(text)))


@dataclass(frozen=True)
class QueryPlan:
    """A parsed query: every group must match; a group matches if all tokens of one alternative are indexed."""

    text: str  # the normalised query
    terms: tuple[str, ...]  # the query term behind each group, for display and relaxation
    groups: tuple[Group, ...]

    @property
    def is_empty(self) -> bool:
        """True when the query holds no searchable token (only punctuation or spaces)."""
        return not self.groups


def query_plan(query: str, synonyms: SynonymTable | None = None) -> QueryPlan:
    """Parse a query with the document pipeline, expand synonyms, and mark the final Latin word as a prefix."""
    table = default_synonyms() if synonyms is None else synonyms
    text = normalise(query)[:MAX_QUERY_CHARS]
    runs = [(kind, run) for kind, run, _positions in _runs(text, join=False)]
    typing = bool(query) and not query[-1].isspace()  # type-ahead: the last word may be unfinished
    terms: dict[str, Group] = {}
    index = 0
    while index < len(runs):
        consumed, term, variants = table.spellings(runs, index)
        index += consumed
        last = index == len(runs)
        alternatives = [
            _required(variant, prefix=last and typing and number == 0) for number, variant in enumerate(variants)
        ]
        group = _simplest(alternatives)
        if group:
            terms.setdefault(term, group)
    return QueryPlan(text, tuple(terms), tuple(terms.values()))


def matches(plan: QueryPlan, indexed_terms: set[str] | frozenset[str]) -> bool:
    """Reference semantics of a plan against the set of a document's index terms (the oracle for backends)."""
    return not plan.is_empty and all(any(_all_indexed(indexed_terms, a) for a in group) for group in plan.groups)


def to_fts5(plan: QueryPlan) -> str:
    """An SQLite FTS5 MATCH expression; every token is a quoted string, so input cannot inject FTS5 syntax."""
    return _render(plan, _fts5_token, "AND", "OR")


def to_tsquery(plan: QueryPlan) -> str:
    """A PostgreSQL tsquery literal (cast with ``::tsquery``, not to_tsquery()) over array_to_tsvector(tokens)."""
    return _render(plan, _tsquery_token, "&", "|")


def split_prefix(token: str) -> tuple[str, bool]:
    """Split a plan token into its text and whether it is a prefix token."""
    return (token[: -len(PREFIX)], True) if token.endswith(PREFIX) else (token, False)


def highlight(text: str, plan: QueryPlan) -> list[tuple[str, bool]]:
    """Segments of the original text, each marked True where it matched the plan; the caller escapes them."""
    norm, starts, ends = _align(text)
    runs = _runs(norm)
    indexed = set(_terms_of(runs))
    satisfied = [alternative for group in plan.groups for alternative in group if _all_indexed(indexed, alternative)]
    wanted = {token for alternative in satisfied for token in alternative}
    marked = [False] * len(text)
    for kind, run, positions in runs:
        for offset, length in _hits(kind, run, wanted):
            for position in positions[offset : offset + length]:
                marked[starts[position] : ends[position]] = [True] * (ends[position] - starts[position])
    return [(text[start:end], flag) for flag, start, end in _spans(marked)]


@functools.cache
def default_synonyms() -> SynonymTable:
    """The table from saas/marketplace/text/data/synonyms.tsv, normalised with this pipeline."""
    return SynonymTable.build(load_rows(), normalise, is_cjk)


# --- Normalisation --------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1 << 16)
def _fold(cluster: str) -> str:
    """NFKC and lower-case one character with its combining marks; fold accented Latin letters to ASCII."""
    out: list[str] = []
    for char in unicodedata.normalize("NFKC", cluster).lower():
        category = unicodedata.category(char)
        if (category in _DROPPED and not char.isspace()) or (category[0] == "M" and (not out or out[-1].isascii())):
            continue
        base = unicodedata.normalize("NFKD", char)[0] if char.isalpha() and not char.isascii() else char
        out.append(base if base.isascii() and base.isalpha() else char)
    return "".join(out)


@functools.lru_cache(maxsize=1 << 16)
def _simplified_char(char: str) -> str:
    converted = _converter().convert(char)
    return converted if len(converted) == 1 else char


def _simplified(text: str) -> str:
    """Traditional → Simplified with OpenCC's phrase table; per character if a phrase would change the length."""
    if all(ord(char) < 0x3400 for char in text):
        return text
    converted = _converter().convert(text)
    return converted if len(converted) == len(text) else "".join(map(_simplified_char, text))


def _align(text: str) -> tuple[str, list[int], list[int]]:
    """The normalised text and, for each of its characters, the span of the original text it came from."""
    folded: list[tuple[str, int, int]] = []
    start = 0
    while start < len(text):
        end = start + 1
        while end < len(text) and unicodedata.category(text[end])[0] == "M":
            end += 1
        folded += [(char, start, end) for char in _fold(text[start:end])]
        start = end
    out: list[tuple[str, int, int]] = []
    for char, (_folded, start, end) in zip(_simplified("".join(c for c, _, _ in folded)), folded, strict=True):
        if not char.isspace():
            out.append((char, start, end))
        elif out and out[-1][0] != " ":
            out.append((" ", start, start))  # a collapsed space is never highlighted
    if out and out[-1][0] == " ":
        out.pop()
    return "".join(char for char, _, _ in out), [start for _, start, _ in out], [end for _, _, end in out]


# --- Tokens ---------------------------------------------------------------------------------------------------


def _runs(text: str, join: bool = True) -> list[tuple[str, str, tuple[int, ...]]]:
    """CJK runs (joined across single spaces if ``join``) and Latin/digit words, with each character's position."""
    runs: list[tuple[str, str, tuple[int, ...]]] = []
    index = 0
    while index < len(text):
        if not text[index].isalnum():
            index += 1
            continue
        cjk = is_cjk(text[index])
        positions = []
        while index < len(text):
            char = text[index]
            if join and cjk and char == " " and index + 1 < len(text) and is_cjk(text[index + 1]):
                index += 1
            elif is_cjk(char) if cjk else (char.isalnum() and not is_cjk(char)) or _decimal_point(text, index):
                positions.append(index)
                index += 1
            else:
                break
        runs.append(("cjk" if cjk else "word", "".join(text[p] for p in positions), tuple(positions)))
    return runs


def _decimal_point(text: str, index: int) -> bool:
    """Whether text[index] is a point between two digits, so that "1.5mm" stays one word."""
    return text[index] == "." and 0 < index < len(text) - 1 and text[index - 1].isdigit() and text[index + 1].isdigit()


def _cjk_terms(run: str) -> list[str]:
    """Every character and every overlapping bigram of a CJK run, in text order."""
    return [run[i : i + n] for i in range(len(run)) for n in (1, 2) if i + n <= len(run)]


def _pieces(word: str) -> list[tuple[int, str]]:
    """A word cut where letters meet digits, with offsets: "19mm" → (0, "19"), (2, "mm")."""
    pieces = []
    for _digits, group in itertools.groupby(enumerate(word), key=lambda item: item[1].isdigit() or item[1] == "."):
        items = list(group)
        pieces.append((items[0][0], "".join(char for _offset, char in items)))
    return pieces


def _word_terms(word: str) -> list[tuple[int, str]]:
    """The word, its letter/digit pieces, its suffixes from each piece, and known-code parts, with offsets."""
    terms = [(0, word)]
    pieces = _pieces(word)
    if len(pieces) > 1:
        terms += pieces + [(offset, word[offset:]) for offset, _piece in pieces[1:-1]]
    for offset, piece in pieces:
        if piece.isalpha():
            terms += [(offset + start, code) for start, code in default_synonyms().split_codes(piece) or ()]
    return terms


def _required(variant: str, prefix: bool) -> Alternative:
    """The tokens one spelling requires: CJK bigrams (a lone character: itself) and whole words."""
    tokens: list[str] = []
    runs = _runs(variant, join=False)
    for kind, run, _positions in runs:
        tokens += [run[i : i + 2] for i in range(len(run) - 1)] or [run] if kind == "cjk" else [run]
    if prefix and runs and runs[-1][0] == "word":
        tokens[-1] += PREFIX
    return tuple(dict.fromkeys(tokens))


def _simplest(alternatives: list[Alternative]) -> Group:
    """Drop empty and repeated alternatives and those that need more than another one does."""
    unique = [alternative for alternative in dict.fromkeys(alternatives) if alternative]
    return tuple(a for a in unique if not any(set(b) < set(a) for b in unique))


def _all_indexed(indexed: set[str] | frozenset[str], alternative: Alternative) -> bool:
    """Whether every token of an alternative is indexed (prefix tokens: some indexed token starts with it)."""
    return all(
        any(term.startswith(stem) for term in indexed) if prefix else stem in indexed
        for stem, prefix in map(split_prefix, alternative)
    )


def _render(plan: QueryPlan, token: Callable[[str, bool], str], and_: str, or_: str) -> str:
    """Parenthesised AND of ORs of ANDs, each token rendered from its text and prefix flag."""
    if plan.is_empty:
        raise ValueError("an empty query plan has no search expression")
    alternative = f" {and_} ".join
    return alternative(
        "(" + f" {or_} ".join("(" + alternative(token(*split_prefix(t)) for t in a) + ")" for a in group) + ")"
        for group in plan.groups
    )


def _fts5_token(stem: str, prefix: bool) -> str:
    return '"' + stem.replace('"', '""') + '"' + (" *" if prefix else "")


def _tsquery_token(stem: str, prefix: bool) -> str:
    return "'" + stem.replace("\\", "\\\\").replace("'", "''") + "'" + (":*" if prefix else "")


def _hits(kind: str, run: str, wanted: set[str]) -> list[tuple[int, int]]:
    """Offsets and lengths of the wanted tokens inside one run of the text."""
    if kind == "cjk":
        return [(i, n) for i in range(len(run)) for n in (1, 2) if i + n <= len(run) and run[i : i + n] in wanted]
    stems = [stem for stem, prefix in map(split_prefix, wanted) if prefix]
    terms = _word_terms(run)
    hits = [(offset, len(token)) for offset, token in terms if token in wanted]
    return hits + [(offset, len(stem)) for offset, token in terms for stem in stems if token.startswith(stem)]


def _terms_of(runs: list[tuple[str, str, tuple[int, ...]]]) -> list[str]:
    """The index terms of scanned runs: CJK unigrams and bigrams, words with their pieces."""
    terms: list[str] = []
    for kind, run, _positions in runs:
        terms.extend(_cjk_terms(run) if kind == "cjk" else [token for _offset, token in _word_terms(run)])
    return terms


def _spans(marked: list[bool]) -> list[tuple[bool, int, int]]:
    sizes = [(flag, len(list(group))) for flag, group in itertools.groupby(marked)]
    ends = itertools.accumulate(size for _flag, size in sizes)
    return [(flag, end - size, end) for (flag, size), end in zip(sizes, ends, strict=True)]
