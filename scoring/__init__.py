"""Score informatization maturity assessments: a pure, deterministic engine over versioned YAML instruments.

Public API (everything the Flask app needs; formulas in docs/scoring.md, file format in docs/instrument-format.md):

Instruments
    load_instrument_file(path) -> Instrument          read + validate a YAML file and its pack_files
    load_instrument(data, source="<dict>", base_dir=None) -> Instrument
    read_instrument_data(path) -> dict                 validated content with pack files merged in (what to store)
    instrument_checksum(data) -> str                   SHA-256 of canonical merged content (also Instrument.checksum)
    questions_for(instrument, industry) -> tuple[LayoutDimension, ...]
        wizard order; each has .id, .name (Text), .weight, .role, .indicators and .questions
    industries(instrument) -> tuple[str, ...]           pack ids plus "other"
    check_answer_value(instrument, question, value)    canonical value, or InvalidAnswer (e.g. for autosave checks)
    Question.states, .scale, .scale_labels             a row/requirement question's answer states, values, labels
    instrument.outputs -> Outputs                      which outputs exist (levels, bands, composite, outcome,
                                                       advice, priorities, evidence); absent ones are None / empty
    caveats(instrument) -> tuple[Caveat, ...]           notes on what the sources leave unconfirmed (method appendix)

Scoring
    score_assessment(instrument, AssessmentInput) -> ScoreResult
    recompute(instrument, result) -> ScoreResult        rescore result.inputs (raises RubricMismatch on another version)
    is_stale(instrument, result) -> bool                engine or instrument version changed since scoring
    radar_data(instrument, result, lang="zh") -> dict   labels + self/evidence/verified series for the radar chart
    ScoreResult.to_dict() / ScoreResult.from_dict(data) JSON-ready snapshot, inputs included; .outputs says what exists

Crosswalks (a target instrument says how to estimate its dimensions from a source instrument version's scores)
    crosswalk_estimate(target, source, result, view="self") -> CrosswalkEstimate   labelled estimate, never a score
    check_crosswalk(target, source)                     InstrumentError if it names unknown source dimensions
    crosswalk_for(target, source_id, source_version) -> Crosswalk | None

Thresholds: every comparison of a computed value with a threshold uses scoring.tolerance (1e-9, docs/scoring.md).

Progress
    compare_results(instrument, before, after) -> Comparison      T0 -> T1 deltas, "no material change" below min_delta
    check_reassessment(instrument, last_submitted, proposed) -> ReassessmentCheck

Benchmarking (pure cohort statistics over Peer(peer_key, industry, county, size_class, composite, maturity,
dimensions); design choices come in as BenchmarkParams(min_n, window_months, suppress_k, quantiles, bins))
    latest_per_firm(records, as_of, version, months) -> tuple[PeerRecord, ...]   latest per firm in the window
    all_cohort_stats(peers, dimensions, params) -> {Cohort.id: CohortStats}     every cohort at every fallback level
    position(firm, stats, included=True) -> Position     percentile ranks + quantiles in the firm's fallback cohort
    select_cohort(firm, peers, min_n) -> Cohort           fallback industry×county×size → … → city
    quantile / percentile_rank / histogram(sorted_values, …), window_start(as_of, months)
    suppress(cells, k) -> {key: Cell}                     bureau cells with n < k blanked
    CohortStats.to_dict() / CohortStats.from_dict(data)  one persisted row per cohort
    Bad peers or params raise BenchmarkError (a ScoringError and a ValueError).

Inputs: AssessmentInput(industry, answers={qid: Answer(value, na, confidence, has_evidence)},
    overrides={qid: Override(status, value, na)}, profile=Profile(top_kpis, cost_shares), cohort_p90={dim: P90},
    duration_seconds).
Outputs: ScoreResult(questions, self_view / evidence_view / verified_view: ViewResult(dimensions, maturity M,
    outcome O, composite C, band, level, attainment), confidence K, evidence_coverage, trust_gap, flags, advice
    (AdvicePlan per dimension + overall), priorities, answers_fingerprint, inputs, versions).
Errors: ScoringError > InstrumentError (bad instrument), InvalidAnswer (bad input), RubricMismatch (wrong version).
"""

from __future__ import annotations

from typing import Any

from scoring.benchmark import (
    LEVELS,
    BenchmarkError,
    BenchmarkParams,
    Cell,
    Cohort,
    CohortStats,
    MetricPosition,
    MetricStats,
    Peer,
    PeerRecord,
    Position,
    all_cohort_stats,
    histogram,
    latest_per_firm,
    percentile_rank,
    position,
    quantile,
    select_cohort,
    suppress,
    window_start,
)
from scoring.crosswalk import (
    Caveat,
    CrosswalkEstimate,
    EstimatedDimension,
    caveats,
    check_crosswalk,
    crosswalk_estimate,
    crosswalk_for,
)
from scoring.engine import ENGINE_VERSION, score_assessment
from scoring.errors import InstrumentError, InvalidAnswer, RubricMismatch, ScoringError
from scoring.inputs import layout_for
from scoring.items import canonical_value
from scoring.model import Crosswalk, Instrument, LayoutDimension, Outputs, Question, Text
from scoring.progress import check_reassessment, compare_results
from scoring.results import (
    AdviceItem,
    AdvicePlan,
    Answer,
    AssessmentInput,
    Comparison,
    DimensionDelta,
    DimensionScore,
    Flag,
    Override,
    Priority,
    Profile,
    QuestionResult,
    ReassessmentCheck,
    ScoreResult,
    ViewResult,
)
from scoring.rubric import instrument_checksum, load_instrument, load_instrument_file, read_instrument_data


def questions_for(instrument: Instrument, industry: str) -> tuple[LayoutDimension, ...]:
    """Return the dimensions with the questions that apply to ``industry``, in wizard order.

    :raises InvalidAnswer: if the industry is neither a pack id nor "other".
    """
    return layout_for(instrument, industry).dimensions


def industries(instrument: Instrument) -> tuple[str, ...]:
    """Return the industry ids a firm may choose: every pack id, then "other"."""
    return instrument.industries


def check_answer_value(instrument: Instrument, question: Question, value: Any) -> Any:
    """Return ``value`` in canonical form if it is a valid answer to ``question`` (N/A is checked separately).

    :raises InvalidAnswer: if the value has the wrong type or names an unknown option, row or state.
    """
    return canonical_value(question, instrument.params, value)


def recompute(instrument: Instrument, result: ScoreResult) -> ScoreResult:
    """Rescore a stored result's inputs with this engine on the same instrument version.

    :raises RubricMismatch: if ``instrument`` is not the version the result was scored on.
    """
    if (result.instrument_id, result.instrument_version, result.instrument_checksum) != (
        instrument.id,
        instrument.version,
        instrument.checksum,
    ):
        raise RubricMismatch(f"result was scored on {result.instrument_id} {result.instrument_version}")
    return score_assessment(instrument, result.inputs)


def is_stale(instrument: Instrument, result: ScoreResult) -> bool:
    """Return whether a stored result predates this engine version or this instrument content."""
    return result.engine_version != ENGINE_VERSION or result.instrument_checksum != instrument.checksum


def radar_data(instrument: Instrument, result: ScoreResult, lang: str = "zh") -> dict[str, Any]:
    """Return maturity-dimension labels and one 0–100 series per view (None where a dimension is not scored)."""
    dims = [d for d in layout_for(instrument, result.inputs.industry).dimensions if d.role == "maturity"]
    series: dict[str, list[float | None] | None] = {}
    for name in ("self", "evidence", "verified"):
        view = result.view(name)
        series[name] = None if view is None else [view.dimension(d.id).score for d in dims]
    return {"dimension_ids": [d.id for d in dims], "labels": [d.name.get(lang) for d in dims], "series": series}


__all__ = [
    "ENGINE_VERSION",
    "LEVELS",
    "AdviceItem",
    "AdvicePlan",
    "Answer",
    "AssessmentInput",
    "Caveat",
    "BenchmarkError",
    "BenchmarkParams",
    "Cell",
    "Cohort",
    "CohortStats",
    "Comparison",
    "Crosswalk",
    "CrosswalkEstimate",
    "DimensionDelta",
    "DimensionScore",
    "EstimatedDimension",
    "Flag",
    "Instrument",
    "InstrumentError",
    "InvalidAnswer",
    "LayoutDimension",
    "MetricPosition",
    "MetricStats",
    "Outputs",
    "Override",
    "Peer",
    "PeerRecord",
    "Position",
    "Priority",
    "Profile",
    "Question",
    "QuestionResult",
    "ReassessmentCheck",
    "RubricMismatch",
    "ScoreResult",
    "ScoringError",
    "Text",
    "ViewResult",
    "all_cohort_stats",
    "caveats",
    "check_answer_value",
    "check_crosswalk",
    "check_reassessment",
    "compare_results",
    "crosswalk_estimate",
    "crosswalk_for",
    "histogram",
    "industries",
    "instrument_checksum",
    "is_stale",
    "latest_per_firm",
    "load_instrument",
    "load_instrument_file",
    "percentile_rank",
    "position",
    "quantile",
    "questions_for",
    "radar_data",
    "read_instrument_data",
    "recompute",
    "score_assessment",
    "select_cohort",
    "suppress",
    "window_start",
]
