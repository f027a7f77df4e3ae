"""Estimate a firm's position on another instrument from its scores, through a crosswalk, and list caveats.

A crosswalk lives in the *target* instrument: ``crosswalks: [{from, version, dimensions}]`` says how each of its
dimensions is estimated from the dimension scores of a source instrument version (so a published source, such as
Jiaxing v1, never has to change). Estimates are labelled as such and are never mixed with scored results.
"""

from __future__ import annotations

from dataclasses import dataclass

from scoring.errors import InstrumentError, RubricMismatch
from scoring.maturity import band, weighted_mean
from scoring.model import MATURITY, Crosswalk, Instrument, Text
from scoring.results import ScoreResult


@dataclass(frozen=True)
class EstimatedDimension:
    """One target dimension's estimate: the weighted mean of its source dimensions, None if any is unscored."""

    dimension_id: str
    score: float | None
    band: int | None
    sources: tuple[tuple[str, float], ...]  # (source dimension, weight) as written in the crosswalk


@dataclass(frozen=True)
class CrosswalkEstimate:
    """An estimated position on ``target`` from a result scored on ``source`` (an estimate, not a score)."""

    target_id: str
    target_version: str
    source_id: str
    source_version: str
    view: str
    dimensions: tuple[EstimatedDimension, ...]
    maturity: float | None  # target-weighted mean of the estimates, None unless every dimension is estimated
    band: int | None
    unconfirmed: bool
    note: Text | None


@dataclass(frozen=True)
class Caveat:
    """A note on part of an instrument (what the sources leave unconfirmed, or a design choice), for the appendix."""

    where: str  # "instrument", "bands", "levels", "dimension", "indicator", "question" or "crosswalk"
    item_id: str | None
    label: Text | None
    note: Text
    unconfirmed: bool


def crosswalk_for(target: Instrument, source_id: str, source_version: str) -> Crosswalk | None:
    """Return the crosswalk of ``target`` from ``source_id`` ``source_version``, or None."""
    return next((c for c in target.crosswalks if (c.source_id, c.source_version) == (source_id, source_version)), None)


def check_crosswalk(target: Instrument, source: Instrument) -> None:
    """Check that the crosswalk from ``source`` names only dimensions of ``source`` (maturity or outcome).

    :raises InstrumentError: one problem per unknown source dimension, or if there is no such crosswalk.
    """
    i, crosswalk = next(
        ((n, c) for n, c in enumerate(target.crosswalks) if (c.source_id, c.source_version) == _key(source)),
        (None, None),
    )
    where = f"{target.id} {target.version}"
    if crosswalk is None:
        raise InstrumentError([(where, "$.crosswalks", f"no crosswalk from {source.id} {source.version}")])
    known = {d.id for d in source.dimensions}
    problems = [
        (where, f"$.crosswalks[{i}].dimensions.{dim}.{src}", f"unknown dimension '{src}' in {source.id}")
        for dim, mapping in crosswalk.dimensions.items()
        for src in mapping
        if src not in known
    ]
    if problems:
        raise InstrumentError(problems)


def crosswalk_estimate(
    target: Instrument, source: Instrument, result: ScoreResult, view: str = "self"
) -> CrosswalkEstimate:
    """Estimate ``result`` (scored on ``source``) on ``target``'s dimensions through ``target``'s crosswalk.

    :raises RubricMismatch: if ``result`` is not from ``source``, or ``target`` has no crosswalk from it.
    :raises InstrumentError: if the crosswalk names dimensions ``source`` does not have.
    """
    scored_on = (result.instrument_id, result.instrument_version, result.instrument_checksum)
    if scored_on != (*_key(source), source.checksum):
        raise RubricMismatch(f"result was scored on {result.instrument_id} {result.instrument_version}")
    crosswalk = crosswalk_for(target, *_key(source))
    if crosswalk is None:
        raise RubricMismatch(f"{target.id} {target.version} has no crosswalk from {source.id} {source.version}")
    check_crosswalk(target, source)
    scored = result.view(view)
    if scored is None:
        raise RubricMismatch(f"the result has no {view} view")
    found = {d.dimension_id: d.score for d in scored.dimensions}
    dims = []
    for dim in (d for d in target.dimensions if d.role == MATURITY):
        mapping = crosswalk.dimensions.get(dim.id, {})
        values = [(w, found.get(src)) for src, w in mapping.items()]
        score = weighted_mean([(w, v) for w, v in values if v is not None]) if values else None
        if any(v is None for _, v in values):
            score = None
        dims.append(EstimatedDimension(dim.id, score, band(score, target.params), tuple(mapping.items())))
    weights = {d.id: d.weight for d in target.dimensions}
    maturity = None
    if dims and all(d.score is not None for d in dims):
        maturity = weighted_mean([(weights[d.dimension_id], d.score) for d in dims if d.score is not None])
    return CrosswalkEstimate(
        target.id,
        target.version,
        source.id,
        source.version,
        view,
        tuple(dims),
        maturity,
        band(maturity, target.params),
        crosswalk.unconfirmed,
        crosswalk.note,
    )


def caveats(instrument: Instrument) -> tuple[Caveat, ...]:
    """Return every note in the instrument, in report order, for the method appendix."""
    found: list[Caveat] = []

    def _add(where: str, item_id: str | None, label: Text | None, unconfirmed: bool, note: Text | None) -> None:
        if note is not None:
            found.append(Caveat(where, item_id, label, note, unconfirmed))

    _add("instrument", instrument.id, instrument.title, instrument.unconfirmed, instrument.note)
    for name, block in (("bands", instrument.params.bands), ("levels", instrument.params.levels)):
        if block is not None:
            _add(name, None, None, block.unconfirmed, block.note)
    pack_indicators = [pi.indicator for pack in instrument.packs for pi in pack.indicators]
    for dim, indicators in [*((d, d.indicators) for d in instrument.dimensions), (None, pack_indicators)]:
        if dim is not None:
            _add("dimension", dim.id, dim.name, dim.unconfirmed, dim.note)
        for ind in indicators:
            _add("indicator", ind.id, ind.name, ind.unconfirmed, ind.note)
            for q in ind.questions:
                _add("question", q.id, q.text, q.unconfirmed, q.note)
    for crosswalk in instrument.crosswalks:
        source = f"{crosswalk.source_id} {crosswalk.source_version}"
        _add("crosswalk", source, None, crosswalk.unconfirmed, crosswalk.note)
    return tuple(found)


def _key(instrument: Instrument) -> tuple[str, str]:
    return instrument.id, instrument.version
