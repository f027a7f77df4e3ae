"""Primary and complementary (secondary) cell suppression over linked tables, with a proof for every hidden cell.

Plain Python and numpy (no Flask, no database): ``docs/suppression.md`` explains the method for a bureau reader.

A *family* is every figure published about one grid of *atoms*, the finest cells nobody prints directly (for
example county × industry × band). Each ``Figure`` is the sum of the atoms in a box: per grid dimension, a set of
coordinates (one value, all values, or a range such as "every month up to March" for a cumulative count). A figure
is ``shown`` (printed, may be hidden), ``virtual`` (never printed, but must not be derivable: a monthly count of new
firms that two cumulative figures would give by difference) or ``known`` (assumed public, never hidden: totals an
outsider may know anyway).

``protect`` hides every shown figure that rests on 1 … k−1 firms (primary) and then, for every sensitive figure,
finds a *certificate*: an integer vector z over the atoms, a signed hypercube (+1/−1 at 2, 4 or 8 corners), such
that adding z to the atoms changes the sensitive figure but leaves every published figure unchanged and touches no
atom that a published zero pins to 0. Every published figure that z would change is hidden as well (secondary).
A certificate proves that the figure cannot be derived by any linear combination of the published ones: if
v_p = Σ a_q v_q then v_p·z = Σ a_q v_q·z = 0, yet v_p·z ≠ 0. The search takes the cheapest hypercube (the fewest
firms hidden in new cells); ``recoverable`` is the independent check by rank that the tests also use.
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

import numpy as np

SHOWN, VIRTUAL, KNOWN = "shown", "virtual", "known"
_FIXED_OPTIONS, _ALTERNATIVES = 2, 4  # corners tried per dimension: kept small so a search stays a few ms


@dataclass(frozen=True)
class Figure:
    """A published (or protected) sum of atoms: ``sets[d]`` are the coordinates it covers in grid dimension d."""

    key: Hashable
    sets: tuple[tuple[int, ...], ...]
    n: int
    role: str = SHOWN
    weight: float = 1.0  # the cost of hiding it is (n + 1) · weight: raise it for the figures readers need most


@dataclass
class Family:
    """The figures about one grid of atoms; ``weights`` (atom counts, same shape) guide the choice of corners."""

    name: str
    shape: tuple[int, ...]
    figures: list[Figure]
    weights: np.ndarray | None = None
    ordered: tuple[int, ...] = ()  # dimensions with a natural order (months): neighbours are tried first


@dataclass
class Outcome:
    """Which shown figures are hidden and why, with the certificates that prove the protection."""

    primary: set[Hashable] = field(default_factory=set)  # 1 … k−1 firms
    secondary: set[Hashable] = field(default_factory=set)  # k or more firms, hidden to protect others
    zeros: set[Hashable] = field(default_factory=set)  # no firm, hidden to protect others (printed like a primary)
    certificates: list[tuple[np.ndarray, ...]] = field(default_factory=list)
    pinned: set[Hashable] = field(default_factory=set)  # hidden, but fixed by the known figures alone
    fallback: bool = False  # no hypercube fitted some figure, so every shown figure of the family was hidden

    def hidden(self) -> set[Hashable]:
        return self.primary | self.secondary | self.zeros


def _box_matrices(family: Family) -> list[np.ndarray]:
    mats = []
    for d, size in enumerate(family.shape):
        m = np.zeros((len(family.figures), size), dtype=np.float32)
        for i, fig in enumerate(family.figures):
            m[i, list(fig.sets[d])] = 1
        mats.append(m)
    return mats


def _combine(per_dim: Sequence[np.ndarray]) -> np.ndarray:
    """Multiply per-dimension factors (figures × options_d) into figures × (all option combinations)."""
    out = per_dim[0]
    for nxt in per_dim[1:]:
        out = (out[:, :, None] * nxt[:, None, :]).reshape(out.shape[0], -1)
    return out


def _options(family: Family, fig: Figure, weights: np.ndarray) -> list[list[np.ndarray]]:
    """Return, per dimension, the factor vectors a certificate for ``fig`` may use there.

    A fixed coordinate inside the figure's set (e_v), or a signed pair e_v − e_w with v inside and w outside the set
    (only where the figure does not cover the whole dimension). Inside the set, the heaviest coordinates come first;
    outside, neighbours first for ordered dimensions, then coordinates that hold firms, fewest first.
    """
    box = weights[np.ix_(*[list(s) for s in fig.sets])]
    options = []
    for d, size in enumerate(family.shape):
        inside = list(fig.sets[d])
        other_axes = tuple(a for a in range(len(family.shape)) if a != d)
        mass_in = box.sum(axis=other_axes) if other_axes else box
        order_in = [inside[j] for j in np.argsort(-mass_in, kind="stable")]
        opts = []
        for v in order_in[:_FIXED_OPTIONS]:
            e = np.zeros(size, dtype=np.int64)
            e[v] = 1
            opts.append(e)
        outside = [w for w in range(size) if w not in fig.sets[d]]
        if outside:
            slab = weights[np.ix_(*[list(s) if a != d else outside for a, s in enumerate(fig.sets)])]
            mass_out = slab.sum(axis=other_axes) if other_axes else slab
            mass = dict(zip(outside, mass_out.tolist(), strict=True))
            near = {w for w in outside if d in family.ordered and min(abs(w - v) for v in inside) == 1}
            ranked = sorted(outside, key=lambda w: (w not in near, mass[w] == 0, mass[w]))
            for w in ranked[:_ALTERNATIVES]:
                v = min(inside, key=lambda x: (abs(x - w), -mass_in[inside.index(x)]))
                e = np.zeros(size, dtype=np.int64)
                e[v], e[w] = 1, -1
                opts.append(e)
        options.append(opts)
    return options


def protect(family: Family, k: int) -> Outcome:
    """Hide the primary cells (0 < n < k) and enough others that no sensitive figure can be derived exactly."""
    figs = family.figures
    weights = family.weights if family.weights is not None else np.ones(family.shape, dtype=np.int64)
    mats = _box_matrices(family)
    n = np.array([f.n for f in figs], dtype=np.int64)
    price = (n + 1) * np.array([f.weight for f in figs])
    role = np.array([f.role for f in figs])
    shown, known = role == SHOWN, role == KNOWN
    sensitive = (n > 0) & (n < k) & ~known
    hidden = sensitive & shown
    outcome = Outcome(primary={figs[i].key for i in np.flatnonzero(hidden)})
    covered = np.zeros(len(figs), dtype=bool)  # sensitive figures that a certificate already protects
    public: set[Hashable] | None = None  # sensitive figures that the known figures alone determine
    order = sorted(np.flatnonzero(sensitive), key=lambda i: (-int(np.prod([len(s) for s in figs[i].sets])), n[i]))
    for p in order:
        if covered[p]:
            continue
        options = _options(family, figs[p], weights)
        stacks = [np.stack(o, axis=1).astype(np.float32) for o in options]
        touch_d = [(m @ np.abs(f)) for m, f in zip(mats, stacks, strict=True)]
        rel = np.flatnonzero(np.all([t.any(axis=1) for t in touch_d], axis=0))  # the only figures z can reach
        effect = _combine([(m[rel] @ f) for m, f in zip(mats, stacks, strict=True)])
        touch = _combine([t[rel] for t in touch_d])
        published = ((shown & ~hidden) | known)[rel]
        need = (effect != 0) & published[:, None]
        # known figures cannot be hidden; a printed zero that z touches without changing it would still pin its
        # atoms to 0 (counts are not negative), so z must not touch one
        blocked = (touch > 0) & (effect == 0) & (published & (n[rel] == 0))[:, None]
        own = int(np.searchsorted(rel, p))
        invalid = (need & known[rel][:, None]).any(axis=0) | blocked.any(axis=0) | (effect[own] == 0)
        cost = (need * price[rel][:, None]).sum(axis=0) + np.where(invalid, 10**12, 0)
        best = int(np.argmin(cost))
        if invalid[best]:
            if public is None:
                public = recoverable(family, {f.key for f in figs if f.role != KNOWN}, among=order)
            if figs[p].key in public:  # the known figures fix it (a group's size): hidden, but nothing to prove
                outcome.pinned.add(figs[p].key)
                continue
            hidden |= shown  # no hypercube fits: hide every shown figure of the family
            outcome.fallback = True
            continue
        hidden[rel[need[:, best]]] = True
        combo = np.unravel_index(best, [len(o) for o in options])
        outcome.certificates.append(tuple(options[d][j] for d, j in enumerate(combo)))
        covered[rel[effect[:, best] != 0]] = True
    outcome.secondary = {figs[i].key for i in np.flatnonzero(hidden & ~sensitive & (n > 0))}
    outcome.zeros = {figs[i].key for i in np.flatnonzero(hidden & (n == 0))}
    _check(family, outcome, mats, n, known, shown, hidden, sensitive)
    return outcome


def _check(
    family: Family,
    outcome: Outcome,
    mats: list[np.ndarray],
    n: np.ndarray,
    known: np.ndarray,
    shown: np.ndarray,
    hidden: np.ndarray,
    sensitive: np.ndarray,
) -> None:
    """Re-verify every certificate against the final published set; leave nothing sensitive without a proof."""
    published = (shown & ~hidden) | known
    covered = np.zeros(len(family.figures), dtype=bool)
    for cert in outcome.certificates:
        effect = _combine([(m @ f)[:, None] for m, f in zip(mats, cert, strict=True)])[:, 0]
        touch = _combine([(m @ np.abs(f))[:, None] for m, f in zip(mats, cert, strict=True)])[:, 0]
        if (published & ((effect != 0) | ((touch > 0) & (n == 0)))).any():
            raise AssertionError(f"{family.name}: a certificate no longer holds")
        covered |= effect != 0
    rest = [i for i in np.flatnonzero((sensitive | hidden) & ~covered) if family.figures[i].key not in outcome.pinned]
    if rest:  # only after hiding every shown figure: prove by rank, or record what the known figures fix
        hidden_keys = {family.figures[i].key for i in np.flatnonzero(hidden)}
        outcome.pinned |= recoverable(family, hidden_keys, among=rest)


def vector(family: Family, fig: Figure) -> np.ndarray:
    """Return the figure as a 0/1 vector over the flattened atoms."""
    v = np.zeros(family.shape, dtype=float)
    v[np.ix_(*[list(s) for s in fig.sets])] = 1.0
    return v.ravel()


def recoverable(
    family: Family, hidden: set[Hashable], *, among: Sequence[int] | None = None, tol: float = 1e-9
) -> set[Hashable]:
    """Return the keys of the sensitive or hidden figures whose exact value follows from the published ones.

    Published = shown and not hidden, plus known. Atoms inside a published zero are known to be 0 (counts are not
    negative) and drop out. A figure is recoverable iff its vector lies in the row space of the published vectors,
    tested by projecting it onto an orthonormal basis of that row space (SVD, numerical rank).
    """
    figs = family.figures
    published = [f for f in figs if (f.role == SHOWN and f.key not in hidden) or f.role == KNOWN]
    zero = np.zeros(int(np.prod(family.shape)), dtype=bool)
    for f in published:
        if f.n == 0:
            zero |= vector(family, f) > 0
    keep = ~zero
    rows = np.array([vector(family, f)[keep] for f in published]) if published else np.zeros((0, int(keep.sum())))
    if rows.size:
        _, s, vt = np.linalg.svd(rows, full_matrices=False)
        basis = vt[: int((s > tol * max(1.0, s[0])).sum())]
    else:
        basis = np.zeros((0, int(keep.sum())))
    out = set()
    for f in figs if among is None else [figs[i] for i in among]:
        if f.role == KNOWN or not (f.key in hidden or f.role == VIRTUAL):
            continue
        v = vector(family, f)[keep]
        if not v.any() or np.linalg.norm(v - basis.T @ (basis @ v)) < 1e-7:
            out.add(f.key)
    return out


def box(shape: Sequence[int], **fixed: int | tuple[int, ...] | range) -> tuple[tuple[int, ...], ...]:
    """Build ``Figure.sets`` from per-dimension choices given by position: ``box((7, 8), d0=3)`` covers row 3."""
    sets = []
    for d, size in enumerate(shape):
        choice = fixed.get(f"d{d}")
        if choice is None:
            sets.append(tuple(range(size)))
        elif isinstance(choice, int):
            sets.append((choice,))
        else:
            sets.append(tuple(choice))
    return tuple(sets)


def all_boxes(shape: Sequence[int], kept: Sequence[int]) -> list[tuple[tuple[int, ...], tuple[tuple[int, ...], ...]]]:
    """Return (coordinates on ``kept``, sets) for every cell of the marginal table over the kept dimensions."""
    out = []
    for coords in itertools.product(*[range(shape[d]) for d in kept]):
        out.append((coords, box(shape, **{f"d{d}": c for d, c in zip(kept, coords, strict=True)})))
    return out
