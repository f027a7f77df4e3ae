"""Compare every threshold with the documented tolerance, and print numbers with enough digits to tell them apart.

Scores are sums of float products, so a value that is 60 on paper can come out as 59.999999999999986 (six
dimensions weighted 100/6, every answer at confidence 3 of 5). Every comparison of a computed value with a
threshold therefore goes through these helpers, which allow ``TOL`` of rounding in the value's favour:

    at_least(x, t)   x ≥ t      (gates, band limits, "material change", score_gte, all at maximum)
    below(x, t)      x < t      (= not at_least: low confidence, fast completion, value_lt, weak critical item)
    above(x, t)      x > t      (N/A share, trust gap, jump without evidence)
    at_most(x, t)    x ≤ t      (= not above: score_lte, a closed advice need)
    same(a, b)       |a − b| ≤ TOL
    order_key(x)     x rounded to 9 decimals, the form in which scores are ordered (so noise never decides a rank)

A value within ``TOL`` of the threshold counts as on it. Input sums that must equal a total (weights to 100,
shares to 1) are checked by ``sums_to`` with ``SUM_TOL``, which accepts 100/6 written with seven decimals.
"""

from __future__ import annotations

import math

TOL = 1e-9
SUM_TOL = 1e-6
# Scores are rounded to this many decimals (9) before they are ordered, so noise below TOL never decides a rank.
DECIMALS = round(-math.log10(TOL))


def at_least(x: float, threshold: float) -> bool:
    """Return whether ``x`` reaches ``threshold`` (x ≥ threshold − TOL)."""
    return x >= threshold - TOL


def below(x: float, threshold: float) -> bool:
    """Return whether ``x`` is truly below ``threshold`` (x < threshold − TOL); the negation of ``at_least``."""
    return not at_least(x, threshold)


def above(x: float, threshold: float) -> bool:
    """Return whether ``x`` is truly above ``threshold`` (x > threshold + TOL)."""
    return x > threshold + TOL


def at_most(x: float, threshold: float) -> bool:
    """Return whether ``x`` does not exceed ``threshold`` (x ≤ threshold + TOL); the negation of ``above``."""
    return not above(x, threshold)


def same(a: float, b: float) -> bool:
    """Return whether two numbers are equal within the tolerance."""
    return abs(a - b) <= TOL


def order_key(value: float) -> float:
    """Return ``value`` rounded to ``DECIMALS`` places, the form in which scores are compared for ranking."""
    return round(value, DECIMALS)


def sums_to(total: float, expected: float) -> bool:
    """Return whether an input sum equals ``expected`` within ``SUM_TOL`` (weights to 100, shares to 1)."""
    return abs(total - expected) <= SUM_TOL


def num(x: float) -> str:
    """Return ``x`` with up to 12 significant digits: 100.000002 stays 100.000002, 110.0 becomes 110."""
    return f"{x:.12g}"


def signed(x: float) -> str:
    """Return ``x`` like ``num`` with its sign: +6, -0.5."""
    return f"{x:+.12g}"


def shown(x: float, threshold: float, decimals: int) -> str:
    """Return ``x`` rounded to ``decimals``, or to as many more decimals as it takes not to print the threshold.

    Against 60 with 0 decimals: 55 prints "55", 59.6 prints "59.6" (not "60"), 59.96 prints "59.96" and
    59.9999999 prints "59.9999999".
    """
    text = f"{x:.{decimals}f}"
    if text != f"{threshold:.{decimals}f}" or x == threshold:
        return text
    places = max(decimals, math.ceil(-math.log10(abs(x - threshold))))
    text = f"{x:.{places}f}"
    return text if text != f"{threshold:.{places}f}" else num(x)
