"""Helpers that take optional blocks out of the toy instrument, with the fields that only make sense with them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from scoring_toy import toy

Data = dict[str, Any]
# The order matters: priorities need advice, advice needs levels.
BLOCKS = ("priorities", "advice", "levels", "bands", "composite")


def questions(data: Data) -> Iterator[Data]:
    """Yield every question of the instrument, packs included."""
    for dim in data["dimensions"]:
        for ind in dim["indicators"]:
            yield from ind["questions"]
    for pack in data.get("packs", []):
        for ind in pack.get("indicators", []):
            yield from ind["questions"]


def without(data: Data, *blocks: str) -> Data:
    """Remove the named optional blocks (and what depends on them) from ``data`` in place; return it."""
    params = data["parameters"]
    if "priorities" in blocks:
        del params["priority"], data["priority"]
        for pack in data.get("packs", []):
            pack.pop("impacts", None)
    if "advice" in blocks:
        del params["advice"], params["cost_tiers"]
        for q in questions(data):
            for item in (q, *q.get("options", []), *q.get("rows", [])):
                item.pop("cost_tier", None)
                item.pop("advice", None)
    if "levels" in blocks:
        del params["levels"]
        params["evidence"].pop("required_from_level")
        for q in questions(data):
            q.pop("level", None)
            q.pop("critical", None)
    if "bands" in blocks:
        del params["bands"]
    if "composite" in blocks:
        del params["composite"]
    return data


def bare() -> Data:
    """Return the toy without any optional block: no levels, advice, priorities, bands or composite."""
    return without(toy(), *BLOCKS)
