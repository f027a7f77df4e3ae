"""Assessment instruments: publish a YAML instrument as a stored version, pick the active one, parse a stored
version for the engine once per process. Used by assessments, benchmarking, reports, the bureau and the demo data."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

import scoring
from saas.models import Firm, InstrumentVersion

INSTRUMENTS_DIR = Path(__file__).resolve().parents[2] / "instruments"
DEFAULT_INSTRUMENT = INSTRUMENTS_DIR / "jiaxing-v1.yaml"


class InstrumentChanged(RuntimeError):
    """A published instrument version's file no longer matches the stored checksum."""


def publish_instrument(dbs: Session, path: Path = DEFAULT_INSTRUMENT) -> InstrumentVersion:
    """Store the instrument at ``path`` as a published version (idempotent); a changed published file is refused.

    :raises InstrumentChanged: if the same id and version are already published with other content.
    :raises scoring.InstrumentError: if the file is invalid.
    """
    data = scoring.read_instrument_data(path)
    instrument = scoring.load_instrument(data, source=str(path))
    existing = dbs.scalar(
        select(InstrumentVersion).where(
            InstrumentVersion.instrument_key == instrument.id, InstrumentVersion.version == instrument.version
        )
    )
    if existing is not None:
        if existing.checksum != instrument.checksum:
            raise InstrumentChanged(
                f"{instrument.id} {instrument.version} is published with checksum {existing.checksum[:12]}…; "
                f"the file now has {instrument.checksum[:12]}…. Publish it as a new version instead."
            )
        return existing
    for other in dbs.scalars(select(InstrumentVersion).where(InstrumentVersion.instrument_key == instrument.id)):
        other.is_active = False
    version = InstrumentVersion(
        instrument_key=instrument.id,
        version=instrument.version,
        checksum=instrument.checksum,
        title_zh=instrument.title.zh,
        title_en=instrument.title.en,
        content=data,
        is_active=True,
    )
    dbs.add(version)
    dbs.flush()
    return version


def active_instrument(dbs: Session) -> InstrumentVersion:
    """Return the instrument version new assessments use, publishing the shipped one on first use."""
    version = dbs.scalar(
        select(InstrumentVersion).where(InstrumentVersion.is_active).order_by(InstrumentVersion.published_at.desc())
    )
    return version if version is not None else publish_instrument(dbs)


_PARSED: dict[str, scoring.Instrument] = {}


def engine_instrument(version: InstrumentVersion) -> scoring.Instrument:
    """Return the parsed engine instrument of a stored version (parsed once per checksum and process)."""
    instrument = _PARSED.get(version.checksum)
    if instrument is None:
        instrument = scoring.load_instrument(version.content, source=f"stored:{version.version}")
        if instrument.checksum != version.checksum:
            raise InstrumentChanged("stored instrument content does not match its checksum")
        _PARSED[version.checksum] = instrument
    return instrument


def industry_pack(instrument: scoring.Instrument, firm: Firm) -> str:
    """Return the firm's industry pack id, or "other" when the instrument has no pack for it."""
    return firm.industry if firm.industry in scoring.industries(instrument) else "other"
