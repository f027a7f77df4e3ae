"""An in-memory column store of the public listings: what search needs to count facets and sort, in each process.

Why: a two-character query such as 面料 matches a third of a 100,000-product catalogue. The database finds those rows
quickly (FTS5 or the GIN index: a few milliseconds for their keys), but grouping them by facet and ordering them in SQL
cost 50–100 ms, because each pass walks the wide listing rows again. Here each listing is a *slot* in a few numpy
arrays (its facet group, publication time, MOQ, a product-id prefix for stable tie-breaks) and a list of titles, so
counting every facet is one ``bincount`` and a page is one ``lexsort`` over the matching slots. The database stays the
source of truth: text matching runs there, the page's products are loaded from it, and this index only mirrors the
``product_listings`` read model (about 32–35 MB per process for 100,000 listings, loaded in 1–2 s).

Keeping current: a trigger appends the product id of every listing write to ``listing_changes`` (migration
``add_listing_changes``). Before each search, :func:`current` reads the rows this process has not applied and re-reads
those listings. The protocol is exact on both backends:

* SQLite commits in ``seq`` order (one writer at a time), so the rows after the last applied ``seq`` are all that is
  new. A rolled-back transaction can reuse a ``seq``; the random ``nonce`` of the last applied row tells, and a
  mismatch (or a missing row) reloads everything. That also drops what a session saw of its own uncommitted writes.
  A row missing only from the reader's snapshot (its transaction began before the index's last read, as happens
  with a threaded server) is still visible to a fresh connection: then the index is used as it is.
* PostgreSQL hands out sequence values before commit, so a later ``seq`` can commit first. Each read therefore notes
  its snapshot (``xmax`` and the open transactions), and the next read takes every row written by those open
  transactions or by one begun since (never missing one, and a long-running transaction elsewhere does not widen the
  window; rows the previous read already applied are skipped, as a log row never changes). Rows of the reader's own
  open transaction are applied too (a session sees its own writes) and remembered; if one disappears (a rollback),
  everything is reloaded.
* The log keeps its last 100,000 rows; a process whose last applied row was trimmed reloads everything, and so does a
  batch of more than :data:`RELOAD_AFTER` changes (cheaper than applying them one by one).

Snapshots are immutable: a sync builds new arrays and swaps one reference, so a search running in another thread
keeps reading the arrays it started with.
"""

from __future__ import annotations

import dataclasses
import threading
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
from flask import current_app
from sqlalchemy import Engine, bindparam, create_engine, text
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from saas.core.extensions import db

#: More changes than this since the last sync reload the whole index instead of applying them one by one.
RELOAD_AFTER = 5_000
#: MOQ ranges (in the product's own sale unit): (value, low inclusive, high exclusive); the MOQ facet's values.
MOQ_RANGES: tuple[tuple[str, Decimal | None, Decimal | None], ...] = (
    ("-100", None, Decimal(100)),
    ("100-500", Decimal(100), Decimal(500)),
    ("500-1000", Decimal(500), Decimal(1000)),
    ("1000-5000", Decimal(1000), Decimal(5000)),
    ("5000-", Decimal(5000), None),
)
MOQ_VALUES = tuple(r[0] for r in MOQ_RANGES)
_EDGES = [float(r[1]) for r in MOQ_RANGES[1:]]


class Vocabulary:
    """Values (strings, or ids as the driver returns them) by small integer code, append-only: codes stay valid for
    every snapshot, and readers only index ``values`` while a sync (under the index's lock) appends."""

    def __init__(self) -> None:
        self.values: list[Any] = []
        self._codes: dict[Any, int] = {}

    def code(self, value: Any) -> int:
        code = self._codes.get(value)
        if code is None:
            code = self._codes[value] = len(self.values)
            self.values.append(value)
        return code

    def find(self, value: str) -> int:
        return self._codes.get(value, -1)


@dataclass
class Groups:
    """Facet groups: one per (industry, category, county, verified, MOQ range) combination, append-only."""

    industries: Vocabulary = field(default_factory=Vocabulary)
    categories: Vocabulary = field(default_factory=Vocabulary)
    counties: Vocabulary = field(default_factory=Vocabulary)
    # not a facet: the suppliers of the page's product keys, each id held once (10,000 ids, not 100,000)
    firms: Vocabulary = field(default_factory=Vocabulary)
    rows: list[tuple[int, int, int, int, int]] = field(default_factory=list)
    _ids: dict[tuple[int, int, int, int, int], int] = field(default_factory=dict)

    def gids(self, industries: Sequence[str], categories: Sequence[str], counties: Sequence[str],
             verified: Sequence[Any], moq: np.ndarray) -> np.ndarray:  # fmt: skip
        """The group id of each listing (new combinations get new ids)."""
        columns = [
            [self.industries.code(v) for v in industries],
            [self.categories.code(v) for v in categories],
            [self.counties.code(v) for v in counties],
            [int(bool(v)) for v in verified],
            np.searchsorted(_EDGES, moq, side="right"),
        ]
        # one integer per combination (mixed radix), then one dictionary lookup per distinct combination
        dims = (len(self.industries.values), len(self.categories.values), len(self.counties.values), 2, len(_EDGES) + 1)
        combined = np.ravel_multi_index([np.asarray(c, dtype=np.int64) for c in columns], dims)
        distinct, inverse = np.unique(combined, return_inverse=True)
        ids = np.empty(len(distinct), dtype=np.int32)
        for i, key in enumerate(zip(*(part.tolist() for part in np.unravel_index(distinct, dims)), strict=True)):
            gid = self._ids.get(key)
            if gid is None:
                gid = self._ids[key] = len(self.rows)
                self.rows.append(key)
            ids[i] = gid
        return ids[inverse.reshape(-1)]


@dataclass(frozen=True)
class GroupColumns:
    """The groups' codes as arrays (one entry per group id), for vectorised facet masks."""

    industry: np.ndarray
    category: np.ndarray
    county: np.ndarray
    verified: np.ndarray
    moq: np.ndarray

    @classmethod
    def of(cls, rows: Sequence[tuple[int, int, int, int, int]]) -> GroupColumns:
        matrix = np.array(rows, dtype=np.int32).reshape(len(rows), 5)
        return cls(*(matrix[:, i].copy() for i in range(5)))


@dataclass(frozen=True)
class Snapshot:
    """The listings at one point of the change log. Slots of removed listings stay, marked dead, until a reload."""

    keys: np.ndarray  # int64: the listing key the text search returns (SQLite rowid, PostgreSQL listing_key)
    alive: np.ndarray  # bool
    group: np.ndarray  # int32: the facet group id
    published: np.ndarray  # int64: microseconds since the epoch
    pid_prefix: np.ndarray  # uint64: the product id's first 8 bytes (ties on publication time sort by product id)
    moq: np.ndarray  # float64
    titles: list[str]  # lower-cased zh titles (relevance: the whole query in the title)
    product_ids: list[Any]  # as the driver returns them (hex str on SQLite, UUID on PostgreSQL)
    firm: np.ndarray  # int32: the supplier's code in ``groups.firms``
    by_product: dict[Any, int]
    groups: Groups
    group_columns: GroupColumns
    generation: int  # bumped by every applied change (caches keyed on it stay exact)
    live_keys: np.ndarray  # the live slots' keys in ascending order …
    live: np.ndarray  # … and those slots
    #: data derived from one category's listings, keyed (name, category slug): kept by the next snapshot unless a
    #: listing in that category (or below it) changed
    cache: dict[tuple[str, str], Any] = field(default_factory=dict, compare=False)

    @property
    def size(self) -> int:
        return len(self.keys)

    @property
    def dead(self) -> int:
        return self.size - len(self.live)

    def lookup(self, keys: np.ndarray) -> np.ndarray:
        """The live slot holding each listing key, -1 where none does (a draft's rowid from FTS5, a newer listing)."""
        if not len(self.live):
            return np.full(len(keys), -1, dtype=np.int64)
        at = np.searchsorted(self.live_keys, keys)
        at[at >= len(self.live_keys)] = 0
        return np.where(self.live_keys[at] == keys, self.live[at], -1)

    def slots_of(self, keys: np.ndarray) -> np.ndarray:
        """The live slots holding these listing keys, in their order; keys of no live listing are dropped."""
        slots = self.lookup(keys)
        return slots[slots >= 0]

    def key(self, slot: int) -> tuple[uuid.UUID, uuid.UUID]:
        """The (firm id, product id) primary key of the product in ``slot``."""
        return _uuid(self.groups.firms.values[self.firm[slot]]), _uuid(self.product_ids[slot])


def _uuid(value: Any) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(hex=str(value))


def _is_postgres(dbs: Session) -> bool:
    return dbs.get_bind().dialect.name == "postgresql"


def _columns(dbs: Session) -> str:
    if _is_postgres(dbs):
        key, published = "listing_key", "CAST(extract(epoch FROM published_at) * 1000000 AS bigint)"
    else:
        key, published = "rowid", "published_at"
    return f"{key}, product_id, firm_id, industry, category_slug, county, verified, moq, {published}, title_zh"


def _bounds(dbs: Session) -> tuple[int, str]:
    """This statement's snapshot (PostgreSQL): the first transaction id not yet started, and the open ones (as an
    array literal). Only those can write log rows a read in this snapshot did not see."""
    row = dbs.execute(
        text(
            "SELECT pg_snapshot_xmax(s)::text::bigint, "
            "'{' || array_to_string(ARRAY(SELECT pg_snapshot_xip(s)::text), ',') || '}' "
            "FROM pg_current_snapshot() AS s"
        )
    ).one()
    return int(row[0]), str(row[1])


def _microseconds(values: Sequence[Any], postgres: bool) -> np.ndarray:
    if postgres:
        return np.array([v if v is not None else 0 for v in values], dtype=np.int64)
    return np.array([v or "1970-01-01" for v in values], dtype="datetime64[us]").astype(np.int64)


def _prefix(product_id: Any) -> int:
    """The first 8 bytes of the id: SQLite stores 32 hex digits, PostgreSQL hands over UUIDs."""
    return int(product_id[:16], 16) if isinstance(product_id, str) else product_id.int >> 64


@dataclass(frozen=True)
class _Rows:
    """Listing rows as columns, ready to become (part of) a snapshot."""

    keys: np.ndarray
    product_ids: list[Any]
    firm: np.ndarray
    group: np.ndarray
    published: np.ndarray
    pid_prefix: np.ndarray
    moq: np.ndarray
    titles: list[str]

    @classmethod
    def read(cls, dbs: Session, groups: Groups, product_ids: list[Any] | None = None) -> _Rows:
        """Every listing, or those of these products."""
        statement = text(f"SELECT {_columns(dbs)} FROM product_listings")
        if product_ids is not None:
            statement = text(f"{statement.text} WHERE product_id IN :ids").bindparams(
                bindparam("ids", value=product_ids, expanding=True)
            )
        rows = dbs.execute(statement).all()
        columns = list(zip(*rows, strict=True)) if rows else [()] * 10
        moq = np.array([float(v) for v in columns[7]], dtype=np.float64)
        return cls(
            keys=np.array(columns[0], dtype=np.int64),
            product_ids=list(columns[1]),
            firm=np.array([groups.firms.code(v) for v in columns[2]], dtype=np.int32),
            group=groups.gids(*columns[3:7], moq),
            published=_microseconds(columns[8], _is_postgres(dbs)),
            pid_prefix=np.array([_prefix(v) for v in columns[1]], dtype=np.uint64),
            moq=moq,
            titles=[(t or "").lower() for t in columns[9]],
        )


def _ordering(keys: np.ndarray, alive: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The live slots' keys in ascending order and those slots (a SQLite update reuses its rowid in a new slot)."""
    live = np.flatnonzero(alive)
    ordered = keys[live]
    if len(ordered) > 1 and not bool(np.all(ordered[1:] > ordered[:-1])):
        order = np.argsort(ordered, kind="stable")
        live, ordered = live[order], ordered[order]
    return ordered, live


def _snapshot(rows: _Rows, groups: Groups, generation: int) -> Snapshot:
    alive = np.ones(len(rows.keys), dtype=bool)
    live_keys, live = _ordering(rows.keys, alive)
    return Snapshot(
        keys=rows.keys,
        alive=alive,
        group=rows.group,
        published=rows.published,
        pid_prefix=rows.pid_prefix,
        moq=rows.moq,
        titles=rows.titles,
        product_ids=rows.product_ids,
        firm=rows.firm,
        by_product={pid: slot for slot, pid in enumerate(rows.product_ids)},
        groups=groups,
        group_columns=GroupColumns.of(groups.rows),
        generation=generation,
        live_keys=live_keys,
        live=live,
    )


def _apply(old: Snapshot, changed: Iterable[Any], fresh: _Rows, generation: int) -> Snapshot:
    """A new snapshot: the changed products' old slots die; their current rows (in ``fresh``) are added."""
    alive = old.alive.copy()
    by_product = dict(old.by_product)
    touched = {int(g) for g in fresh.group}
    for product_id in changed:
        slot = by_product.pop(product_id, None)
        if slot is not None:
            alive[slot] = False
            touched.add(int(old.group[slot]))
    categories = {old.groups.categories.values[old.groups.rows[g][1]] for g in touched}
    start = old.size
    for i, product_id in enumerate(fresh.product_ids):
        by_product[product_id] = start + i
    keys = np.concatenate([old.keys, fresh.keys])
    alive = np.concatenate([alive, np.ones(len(fresh.keys), dtype=bool)])
    live_keys, live = _ordering(keys, alive)
    return Snapshot(
        keys=keys,
        alive=alive,
        group=np.concatenate([old.group, fresh.group]),
        published=np.concatenate([old.published, fresh.published]),
        pid_prefix=np.concatenate([old.pid_prefix, fresh.pid_prefix]),
        moq=np.concatenate([old.moq, fresh.moq]),
        titles=old.titles + fresh.titles,
        product_ids=old.product_ids + fresh.product_ids,
        firm=np.concatenate([old.firm, fresh.firm]),
        by_product=by_product,
        groups=old.groups,
        group_columns=GroupColumns.of(old.groups.rows),
        generation=generation,
        live_keys=live_keys,
        live=live,
        # a copy first: another thread's search may add to the old snapshot's cache meanwhile
        cache={k: v for k, v in dict(old.cache).items() if not any(under(c, k[1]) for c in categories)},
    )


def under(slug: str, scope: str) -> bool:
    """Whether category ``slug`` is ``scope`` or lies below it."""
    return slug == scope or slug.startswith(scope + "/")


class ListingIndex:
    """The index of one database: the current snapshot and where in the change log it stands."""

    def __init__(self) -> None:
        self.snapshot: Snapshot | None = None
        self.last: tuple[int, int] | None = None  # (seq, nonce) of the last applied log row
        self.bounds: tuple[int, str] = (0, "{}")  # PostgreSQL: xmax and open transactions of the last read's snapshot
        self.own: dict[int, int] = {}  # PostgreSQL: rows of a then-open transaction: seq -> nonce
        self.window: set[int] = set()  # PostgreSQL: the rows the last read returned (already applied)
        self.generation = 0
        self.lock = threading.Lock()
        self.stale_reader = False  # the last caller's snapshot was older than the index (SQLite)
        self._fresh: Engine | None = None  # SQLite: unpooled connections for the stale-reader check

    def current(self, dbs: Session) -> Snapshot:
        with self.lock:
            self.stale_reader = False
            try:
                if self.snapshot is None or not self._catch_up(dbs):
                    self._reload(dbs)
            except BaseException:
                self.snapshot = None  # the log position may have moved past changes not applied: reload next time
                raise
            assert self.snapshot is not None
            if self.stale_reader:  # what this session derives from its older view must not be cached for others
                return dataclasses.replace(self.snapshot, cache={})
            return self.snapshot

    def _reload(self, dbs: Session) -> None:
        """Read every listing; the log position is read first, so a write in between is applied (again) later."""
        if _is_postgres(dbs):
            self.bounds, self.own, self.window = _bounds(dbs), {}, set()
        head = dbs.execute(text("SELECT seq, nonce FROM listing_changes ORDER BY seq DESC LIMIT 1")).first()
        self.last = (int(head[0]), int(head[1])) if head else None
        groups = Groups()
        self.generation += 1
        self.snapshot = _snapshot(_Rows.read(dbs, groups), groups, self.generation)

    def _catch_up(self, dbs: Session) -> bool:
        """Apply the log rows written since the last read; False when only a full reload is exact."""
        if _is_postgres(dbs):
            changes = self._pending_postgres(dbs)
        else:
            changes = self._pending_sqlite(dbs)
        if changes is None:
            return False
        if not changes:
            return True
        if len(changes) > RELOAD_AFTER:
            return False
        assert self.snapshot is not None
        changed = list(dict.fromkeys(changes))
        fresh = _Rows.read(dbs, self.snapshot.groups, changed)
        self.generation += 1
        self.snapshot = _apply(self.snapshot, changed, fresh, self.generation)
        # slots of removed or changed listings stay until a reload: compact once they are a quarter of the index
        return self.snapshot.dead <= max(1_000, self.snapshot.size // 4)

    def _still_there(self, dbs: Session, seq: int, nonce: int) -> bool:
        row = dbs.execute(text("SELECT nonce FROM listing_changes WHERE seq = :s"), {"s": seq}).first()
        return row is not None and int(row[0]) == nonce

    def _committed(self, dbs: Session, seq: int, nonce: int) -> bool:
        """Whether a fresh connection sees the log row (SQLite: a reader's snapshot may be older than the index).

        The connection is not from the app's pool: this runs under the index's lock, and threads waiting for that lock
        may hold every pooled connection.
        """
        if self._fresh is None:
            self._fresh = create_engine(dbs.get_bind().engine.url, poolclass=NullPool)
        with self._fresh.connect() as fresh:
            row = fresh.execute(text("SELECT nonce FROM listing_changes WHERE seq = :s"), {"s": seq}).first()
        return row is not None and int(row[0]) == nonce

    def _pending_sqlite(self, dbs: Session) -> list[Any] | None:
        if self.last is not None and not self._still_there(dbs, *self.last):
            if self._committed(dbs, *self.last):
                self.stale_reader = True
                return []  # this session's snapshot predates the index (a threaded server): use the index as it is
            return None  # rolled back (or trimmed): the index may hold rows that never committed
        after = self.last[0] if self.last else 0
        rows = dbs.execute(
            text("SELECT seq, nonce, product_id FROM listing_changes WHERE seq > :s ORDER BY seq LIMIT :n"),
            {"s": after, "n": RELOAD_AFTER + 1},
        ).all()
        if rows:
            self.last = (int(rows[-1][0]), int(rows[-1][1]))
        return [row[2] for row in rows]

    def _pending_postgres(self, dbs: Session) -> list[Any] | None:
        if self.own:  # rows applied before their transaction (the reader's own) committed: still there?
            statement = text(
                "SELECT seq, nonce, pg_xact_status(txid) = 'committed' FROM listing_changes WHERE seq IN :seqs"
            ).bindparams(bindparam("seqs", value=list(self.own), expanding=True))
            found = {int(seq): (int(nonce), committed) for seq, nonce, committed in dbs.execute(statement)}
            if any(found.get(seq, (None,))[0] != nonce for seq, nonce in self.own.items()):
                return None  # a transaction whose writes were applied rolled back
            self.own = {seq: nonce for seq, nonce in self.own.items() if not found[seq][1]}
        if self.last is not None and not self._still_there(dbs, *self.last):
            return None  # trimmed past this process's position
        bounds = _bounds(dbs)
        # the transactions open at the last read, those begun since, and the reader's own (which may have written
        # more since): nothing else can have written rows the last read did not see
        rows = dbs.execute(
            text(
                "SELECT seq, nonce, product_id, pg_xact_status(txid) = 'committed' FROM listing_changes "
                "WHERE txid >= CAST(CAST(:xmax AS text) AS xid8) OR txid = ANY(CAST(CAST(:xip AS text) AS xid8[])) "
                "OR txid = pg_current_xact_id_if_assigned() ORDER BY seq LIMIT :n"
            ),
            {"xmax": self.bounds[0], "xip": self.bounds[1], "n": RELOAD_AFTER + 1},
        ).all()
        if len(rows) > RELOAD_AFTER:
            return None
        self.bounds = bounds
        self.own.update({int(seq): int(nonce) for seq, nonce, _p, committed in rows if not committed})
        # a log row never changes: one applied by the previous read (still in the window) is not applied again
        new = [row for row in rows if int(row[0]) not in self.window]
        self.window = {int(row[0]) for row in rows}
        if rows:
            top = max(rows, key=lambda row: row[0])
            if self.last is None or int(top[0]) > self.last[0]:
                self.last = (int(top[0]), int(top[1]))
        return [row[2] for row in new]


_indexes: dict[str, ListingIndex] = {}
_indexes_lock = threading.Lock()


def current(dbs: Session) -> Snapshot:
    """The listing snapshot of this session's database, brought up to date with its change log."""
    name = dbs.get_bind().engine.url.render_as_string()
    with _indexes_lock:
        index = _indexes.setdefault(name, ListingIndex())
    return index.current(dbs)


_generations: dict[str, tuple[float, int]] = {}


def generation() -> int:
    """The listing generation of the request's database: the version of cached public search pages (pagecache).

    Read from the change log at most every ``LISTING_RECHECK_SECONDS`` per process (a cached page's hit then needs
    no database at all): a listing change reaches cached search pages within that time.
    """

    name = current_app.extensions["database"][0].url.render_as_string()  # no session unless the log is read
    max_age = float(current_app.config.get("LISTING_RECHECK_SECONDS", 0) or 0)
    now = time.monotonic()
    seen = _generations.get(name)
    if seen is not None and now - seen[0] < max_age:
        return seen[1]
    value = current(db.session).generation
    _generations[name] = (now, value)
    return value
