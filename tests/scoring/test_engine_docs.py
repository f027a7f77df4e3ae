"""The docs stay true: the demo instrument, the worked example and the error messages are checked against the code."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from scoring_toy import toy

from scoring import (
    AssessmentInput,
    Instrument,
    InstrumentError,
    ScoreResult,
    instrument_checksum,
    load_instrument,
    load_instrument_file,
    score_assessment,
)

ROOT = Path(__file__).resolve().parents[2]
FORMAT_DOC = (ROOT / "docs" / "instrument-format.md").read_text(encoding="utf-8")
SCORING_DOC = (ROOT / "docs" / "scoring.md").read_text(encoding="utf-8")


def _block(text: str, marker: str) -> str:
    """Return the fenced block whose first line is ``# <marker>``."""
    found = re.findall(r"```(?:yaml|text)\n(# " + re.escape(marker) + r"\n.*?)```", text, flags=re.S)
    assert len(found) == 1, marker
    return found[0]


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Instrument:
    path = tmp_path_factory.mktemp("docs") / "demo.yaml"
    path.write_text(_block(FORMAT_DOC, "docs-example: demo instrument"), encoding="utf-8")
    return load_instrument_file(path)


def test_doc_example_is_the_toy_of_the_tests(demo):
    assert demo.checksum == instrument_checksum(toy())


def _close(got: Any, want: Any, where: str) -> None:
    if isinstance(want, float | int) and not isinstance(want, bool):
        assert got == pytest.approx(want, abs=0.005), where
    elif isinstance(want, list) and want and isinstance(want[0], float | int):
        assert list(got) == pytest.approx(want, abs=0.005), where
    else:
        assert got == want, where


def _check_view(view: Any, expected: dict[str, Any], name: str) -> None:
    for key, want in expected.items():
        if isinstance(want, dict):
            dim = view.dimension(key)
            for attr, value in want.items():
                _close(getattr(dim, attr), value, f"{name}.{key}.{attr}")
        else:
            _close(getattr(view, key), want, f"{name}.{key}")


def test_worked_example_numbers(demo):
    inp = AssessmentInput.from_dict(yaml.safe_load(_block(SCORING_DOC, "worked-example-input")))
    want = yaml.safe_load(_block(SCORING_DOC, "worked-example-output"))
    result: ScoreResult = score_assessment(demo, inp)
    for qid, score in want["item_scores"].items():
        _close(result.question(qid).self_score, score, qid)
    for name in ("self", "evidence", "verified"):
        _check_view(result.view(name), want[name], name)
    for key in ("trust_gap", "confidence", "evidence_coverage"):
        _close(getattr(result, key), want[key], key)
    assert [f.code for f in result.flags] == want["flags"]
    plans = {p.dimension_id or "overall": p for p in result.advice}
    for dim, plan in want["advice"].items():
        got = plans[dim]
        assert [f"{i.question_id} -> {i.target}" for i in got.items] == plan["items"], dim
        _close(got.target_level, plan["target_level"], dim)
        _close(got.gain, plan["gain"], dim)
    prio = {p.dimension_id: p for p in result.priorities}
    for dim, expected in want["priorities"].items():
        for attr, value in expected.items():
            _close(getattr(prio[dim], attr), value, f"priority.{dim}.{attr}")


def _broken(mutate) -> str:
    data = toy()
    mutate(data)
    with pytest.raises(InstrumentError) as caught:
        load_instrument(data, source="instruments/demo.yaml")
    return str(caught.value)


def _q(data: dict[str, Any], ind: int = 0) -> dict[str, Any]:
    return data["dimensions"][0]["indicators"][ind]["questions"][0]


ERRORS = [
    (lambda d: d["dimensions"][1].update(weight="heavy"), "$.dimensions[1].weight: must be a number"),
    (lambda d: d["dimensions"][0].update(weight=70), "$.dimensions: maturity dimension weights must sum to 100"),
    (lambda d: d["dimensions"][0].update(weight=60.000002), "(they sum to 100.000002)"),
    (
        lambda d: d["dimensions"][1]["indicators"][0]["questions"][2].update(
            scale={"none": 0, "planned": 0.5, "in_use": 1, "both": 0.8}
        ),
        ".scale.both: must be at least the 'in_use' and 'planned' values (1)",
    ),
    (lambda d: d["packs"][0].update(reweight={"ops": 6, "sales": -6}), "$.packs[0].reweight.ops: must be within"),
    (lambda d: _q(d)["text"].pop("en"), ".questions[0].text: missing required field 'en'"),
    (lambda d: _q(d, 1).update(anchors=[[0, 0], [50, 0.5], [40, 0.8]]), ".anchors[2][0]: x must be strictly"),
]


@pytest.mark.parametrize(("mutate", "fragment"), ERRORS)
def test_documented_error_lines_are_real(mutate, fragment):
    line = _broken(mutate).splitlines()[0]
    assert fragment in line
    assert line in FORMAT_DOC, line


def test_documented_pack_and_yaml_errors_are_real(tmp_path, monkeypatch):
    shutil.copytree(ROOT / "instruments", tmp_path / "instruments")
    silk = tmp_path / "instruments" / "jiaxing-v1" / "packs" / "silk.yaml"
    silk.write_text(silk.read_text(encoding="utf-8").replace("production: 4,", "production: 7,"), encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InstrumentError) as caught:
        load_instrument_file("instruments/jiaxing-v1.yaml")
    assert str(caught.value).splitlines()[0] in FORMAT_DOC
    head = 'format: 1\nid: demo\nversion: "1.0.0"\ntitle: {zh: a, en: b}\n' + "".join(f"k{n}: 1\n" for n in range(4))
    (tmp_path / "instruments" / "demo.yaml").write_text(
        head + "dimensions:\n- id: ops\n  weight: 60\n  weight: 70\n", encoding="utf-8"
    )
    with pytest.raises(InstrumentError) as caught:
        load_instrument_file("instruments/demo.yaml")
    assert str(caught.value) in FORMAT_DOC, str(caught.value)
