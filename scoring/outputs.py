"""Define the flags that say which outputs an instrument computes, so that absent ones are never shown."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Outputs:
    """Which outputs an instrument computes; the web layer shows only these (absent ones are None or empty).

    The defaults describe an instrument with every block, as every instrument before these flags had.
    """

    levels: bool = True  # gated levels, attainment and the overall level
    bands: bool = True  # score bands of D and M
    composite: bool = True  # C
    outcome: bool = True  # O (outcome dimensions)
    advice: bool = True  # next-level advice plans
    priorities: bool = True  # dimension priorities (with a profile)
    evidence: bool = True  # evidence rules, so the evidence view can differ from the self view
