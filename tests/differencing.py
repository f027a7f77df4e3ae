"""An attacker's linear differencing, written independently of ``saas/bureau/suppression.py``.

The attacker knows every published figure as a sum of unknown non-negative atoms. A published 0 tells that each of
its atoms is 0. A hidden figure is recovered exactly when its vector lies in the span of the published vectors:
rank([A; v]) == rank(A) (``numpy.linalg.matrix_rank``). ``recover`` then gives its value by least squares.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping

import numpy as np


class System:
    """Published equations ``v · atoms = value`` over a flat vector of atoms."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.rows: list[np.ndarray] = []
        self.values: list[float] = []

    def publish(self, v: np.ndarray, value: float) -> None:
        self.rows.append(np.asarray(v, dtype=float))
        self.values.append(float(value))

    def _reduced(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        zero = np.zeros(self.size, dtype=bool)
        for row, value in zip(self.rows, self.values, strict=True):
            if value == 0 and (row >= 0).all():
                zero |= row > 0
        keep = ~zero
        a = np.array([r[keep] for r in self.rows]) if self.rows else np.zeros((0, int(keep.sum())))
        return a, np.array(self.values), keep

    def recoverable(self, vectors: Mapping[Hashable, np.ndarray]) -> set[Hashable]:
        a, _, keep = self._reduced()
        base = np.linalg.matrix_rank(a) if a.size else 0
        out = set()
        for key, v in vectors.items():
            w = np.asarray(v, dtype=float)[keep]
            if not w.any() or np.linalg.matrix_rank(np.vstack([a, w]) if a.size else w[None, :]) == base:
                out.add(key)
        return out

    def recover(self, v: np.ndarray) -> float:
        """Return the value the published figures force on ``v`` (only meaningful when it is recoverable)."""
        a, b, keep = self._reduced()
        w = np.asarray(v, dtype=float)[keep]
        if not w.any():
            return 0.0
        coef, *_ = np.linalg.lstsq(a.T, w, rcond=None)  # w = Σ coef_q · a_q, so v · atoms = Σ coef_q · b_q
        return float(coef @ b)


def box_vector(shape: tuple[int, ...], sets: Iterable[Iterable[int]]) -> np.ndarray:
    v = np.zeros(shape)
    v[np.ix_(*[list(s) for s in sets])] = 1
    return v.ravel()
