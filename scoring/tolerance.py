"""Compare numbers with thresholds under the one documented tolerance (1e-9), so float noise never decides a gate.

A value computed as 59.99999999999999 meets a threshold of 60; 59.9999 does not. The tolerance is absolute and
applies to every threshold on the 0–100 scales (and to score differences such as the reviewers' split).
"""

from __future__ import annotations

import math

TOL = 1e-9
# Scores are rounded to this many decimals (9) before they are ordered, so noise below TOL never decides a rank.
DECIMALS = round(-math.log10(TOL))


def at_least(value: float, threshold: float, tol: float = TOL) -> bool:
    """Return whether ``value ≥ threshold`` within the tolerance (a minimum is met)."""
    return value >= threshold - tol


def at_most(value: float, limit: float, tol: float = TOL) -> bool:
    """Return whether ``value ≤ limit`` within the tolerance (a maximum is respected)."""
    return value <= limit + tol


def above(value: float, threshold: float, tol: float = TOL) -> bool:
    """Return whether ``value > threshold`` by more than the tolerance (a "more than" trigger fires)."""
    return value > threshold + tol


def below(value: float, threshold: float, tol: float = TOL) -> bool:
    """Return whether ``value < threshold`` by more than the tolerance (a "less than" flag fires)."""
    return value < threshold - tol


def same(a: float, b: float, tol: float = TOL) -> bool:
    """Return whether two numbers are equal within the tolerance."""
    return abs(a - b) <= tol


def order_key(value: float) -> float:
    """Return ``value`` rounded to ``DECIMALS`` places, the form in which scores are compared for ranking."""
    return round(value, DECIMALS)
