"""Hypothesis properties: no false negatives for substrings, stable normalisation, lossless highlighting."""

from __future__ import annotations

from pathlib import Path

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from saas.marketplace.text import highlight, index_terms, is_cjk, matches, normalise, query_plan

FIXTURES = Path(__file__).with_name("fixtures")
TITLES = [line.split("\t")[1] for line in (FIXTURES / "products.tsv").read_text("utf-8").splitlines()[1:]]
EXTRAS = "ＡＢＣａｂｃ１２３　．絲綢經編裝頭層\u0301\u200b\t.  "
ALPHABET = st.sampled_from(sorted(set("".join(TITLES)) | set(EXTRAS)))
DOCUMENTS = st.one_of(st.sampled_from(TITLES), st.text(ALPHABET, min_size=1, max_size=40))
SETTINGS = settings(max_examples=200, deadline=None)


def word_class(text: str, index: int) -> str | None:
    """ "digit" for digits and decimal points inside numbers, "letter" for other Latin letters, else None."""
    char = text[index]
    if char == "." and 0 < index < len(text) - 1 and text[index - 1].isdigit() and text[index + 1].isdigit():
        return "digit"
    if not char.isalnum() or is_cjk(char):
        return None
    return "digit" if char.isdigit() else "letter"


def starts_a_piece(text: str, index: int) -> bool:
    """Latin words are matched from the start of a word or of a letter/digit piece ("mm" in "19mm"), not mid-piece."""
    here = word_class(text, index)
    return index == 0 or here is None or word_class(text, index - 1) != here


@st.composite
def document_and_substring(draw: st.DrawFn) -> tuple[str, str]:
    document = draw(DOCUMENTS)
    text = normalise(document)
    assume(text)
    start = draw(st.sampled_from([i for i in range(len(text)) if starts_a_piece(text, i)]))
    end = draw(st.integers(start + 1, len(text)))
    return document, text[start:end]


@SETTINGS
@given(document_and_substring())
def test_a_substring_of_the_document_always_finds_it(case: tuple[str, str]) -> None:
    document, query = case
    plan = query_plan(query)
    assume(not plan.is_empty and normalise(query) in normalise(document))
    assert matches(plan, set(index_terms(document)))


@SETTINGS
@given(st.text(ALPHABET, max_size=40))
def test_normalise_is_idempotent(text: str) -> None:
    once = normalise(text)
    assert normalise(once) == once
    assert once == once.strip() and "  " not in once


@SETTINGS
@given(DOCUMENTS, st.text(ALPHABET, max_size=8))
def test_highlight_keeps_the_text_and_marks_every_match(document: str, query: str) -> None:
    plan = query_plan(query)
    segments = highlight(document, plan)
    assert "".join(part for part, _hit in segments) == document
    if matches(plan, set(index_terms(document))):
        assert any(hit for _part, hit in segments)
