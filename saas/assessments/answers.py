"""Turn the wizard's form fields into an engine answer value, and back into form state for rendering.

Field names: ``q-<qid>`` (single, requirement, multi, kpi), ``q-<qid>-<row>`` (row questions),
``q-<qid>-baseline`` / ``q-<qid>-current`` (kpi_delta), ``na-<qid>`` and ``conf-<qid>``. Partial row answers are
kept as drafts; anything the engine could never accept (unknown option, bad number) is refused with a code.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from werkzeug.datastructures import MultiDict

import scoring
from saas.web.forms import Bounds, NumberRejected, read_decimal

ROW_STATES = {
    "adoption": ("0", "1", "2", "3", "4", "5"),
    "tri_state": ("no", "partly", "yes"),
    "in_use_planned": ("none", "planned", "in_use", "both"),
}
REQUIREMENT_STATES = ("none", "partly", "mostly", "fully")


class AnswerRejected(ValueError):
    """Form input that can never be a valid answer; ``code`` picks the user-facing message."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class ParsedAnswer:
    value: Any
    na: bool
    confidence: int | None


# A KPI without a range of its own (revenue, output, hours …) still has one: finite, and small enough that the engine's
# arithmetic on it stays exact in a float.
KPI_LIMIT = Decimal("1e12")


def _number(raw: str | None, question: scoring.Question) -> float | None:
    """The number typed for a KPI (``saas.web.forms.read_decimal``: NaN, Infinity, ``1E+400`` … are refused)."""
    if question.value_range is not None:
        low, high = (Decimal(str(v)) for v in question.value_range)
    else:
        low, high = -KPI_LIMIT, KPI_LIMIT
    try:
        number = read_decimal(raw, Bounds(low, high, 6))
    except NumberRejected as exc:
        codes = {"below_min": "out_of_range", "above_max": "out_of_range", "too_many_places": "too_precise"}
        raise AnswerRejected(codes.get(exc.code, "bad_number")) from None
    return None if number is None else float(number)


def parse_answer(question: scoring.Question, form: MultiDict[str, str]) -> ParsedAnswer:
    """Read one question's fields from ``form``.

    :raises AnswerRejected: ``unknown_option``, ``exclusive_mixed``, ``bad_number``, ``out_of_range``,
        ``too_precise``, ``bad_confidence``.
    """
    key = f"q-{question.id}"
    na = form.get(f"na-{question.id}") == "1"
    conf_raw = form.get(f"conf-{question.id}")
    confidence = None
    if conf_raw:
        if conf_raw not in {"1", "2", "3", "4", "5"}:
            raise AnswerRejected("bad_confidence")
        confidence = int(conf_raw)
    if na:
        return ParsedAnswer(None, True, confidence)
    kind = question.type
    value: Any
    if kind == "single":
        value = form.get(key) or None
        if value is not None and value not in {o.id for o in question.options}:
            raise AnswerRejected("unknown_option")
    elif kind == "requirement":
        value = form.get(key) or None
        if value is not None and value not in REQUIREMENT_STATES:
            raise AnswerRejected("unknown_option")
    elif kind == "multi":
        chosen = [v for v in form.getlist(key) if v]
        ids = {o.id for o in question.options}
        if any(v not in ids for v in chosen):
            raise AnswerRejected("unknown_option")
        exclusive = {o.id for o in question.options if o.exclusive}
        if exclusive & set(chosen) and len(chosen) > 1:
            raise AnswerRejected("exclusive_mixed")
        value = [o.id for o in question.options if o.id in chosen] if chosen or form.get(f"{key}-touched") else None
    elif kind in ROW_STATES:
        value = {}
        for row in question.rows:
            raw = form.get(f"{key}-{row.id}")
            if raw:
                if raw not in ROW_STATES[kind]:
                    raise AnswerRejected("unknown_option")
                value[row.id] = int(raw) if kind == "adoption" else raw
        value = value or None
    elif kind == "kpi":
        value = _number(form.get(key), question)
    else:  # kpi_delta
        baseline, current = (
            _number(form.get(f"{key}-baseline"), question),
            _number(form.get(f"{key}-current"), question),
        )
        value = None if baseline is None and current is None else {"baseline": baseline, "current": current}
    return ParsedAnswer(value, False, confidence)


def form_state(question: scoring.Question, value: Any) -> dict[str, Any]:
    """Return what the template needs to pre-fill a question: chosen ids, row states or numbers."""
    kind = question.type
    if value is None:
        return {}
    if kind in ("single", "requirement"):
        return {"chosen": {value}}
    if kind == "multi":
        return {"chosen": set(value)}
    if kind in ROW_STATES:
        return {"rows": {k: str(v) for k, v in value.items()}}
    if kind == "kpi":
        return {"number": value}
    return {"baseline": value.get("baseline"), "current": value.get("current")}


def typed_state(question: scoring.Question, form: MultiDict[str, str]) -> dict[str, Any]:
    """Return the form state of what the user typed for ``question`` (to re-show refused input unchanged)."""
    key = f"q-{question.id}"
    kind = question.type
    if kind in ("single", "requirement"):
        return {"chosen": {form.get(key)}} if form.get(key) else {}
    if kind == "multi":
        return {"chosen": set(form.getlist(key))}
    if kind in ROW_STATES:
        return {"rows": {r.id: form.get(f"{key}-{r.id}") for r in question.rows if form.get(f"{key}-{r.id}")}}
    if kind == "kpi":
        return {"number": form.get(key, "")}
    return {"baseline": form.get(f"{key}-baseline", ""), "current": form.get(f"{key}-current", "")}
