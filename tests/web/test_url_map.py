"""The URL map is part of the contract: the restructuring (issue 11) kept every endpoint, rule and method.

The snapshot was taken before the restructuring (102 rules) and re-taken once when the 双百 programme and billing
were merged: that re-take only added their 35 rules (programme.*, billing.*, billing_bureau.*) and removed none.
A new route is added to the snapshot deliberately; a changed or lost one is a regression.
"""

from __future__ import annotations

import json
from pathlib import Path

from flask import Flask

SNAPSHOT = Path(__file__).with_name("url_map.json")


def url_map(app: Flask) -> list[list[object]]:
    """Every rule as ``[endpoint, rule, sorted methods]``, sorted."""
    return sorted([rule.endpoint, rule.rule, sorted(rule.methods or ())] for rule in app.url_map.iter_rules())


def test_url_map_matches_the_snapshot_taken_before_the_restructuring(app: Flask) -> None:
    expected = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    actual = url_map(app)
    missing = [row for row in expected if row not in actual]
    added = [row for row in actual if row not in expected]
    assert (missing, added) == ([], [])
    assert actual == expected
