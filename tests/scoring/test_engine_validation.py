"""Broken instrument files are rejected with the file, the JSON path and the reason."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from scoring_toy import toy

from scoring import InstrumentError, instrument_checksum, load_instrument, load_instrument_file

Data = dict[str, Any]


def _q(data: Data, dim: int = 0, ind: int = 0, q: int = 0) -> Data:
    return data["dimensions"][dim]["indicators"][ind]["questions"][q]


def _set(path: Callable[[Data], Data], key: str, value: Any) -> Callable[[Data], None]:
    def mutate(data: Data) -> None:
        path(data)[key] = value

    return mutate


def _delete(path: Callable[[Data], Data], key: str) -> Callable[[Data], None]:
    def mutate(data: Data) -> None:
        del path(data)[key]

    return mutate


Q0 = "$.dimensions[0].indicators[0].questions[0]"
BROKEN = [
    # schema: type, required, unknown field, range, enum, bilingual text
    (_set(lambda d: d["dimensions"][1], "weight", "heavy"), "$.dimensions[1].weight", "must be a number"),
    (_delete(_q, "text"), Q0, "missing required field 'text'"),
    (_set(_q, "wieght", 1), Q0, "unknown field 'wieght'"),
    (_set(lambda d: _q(d)["options"][1], "value", 1.5), f"{Q0}.options[1].value", "must be at most 1"),
    (_set(_q, "type", "slider"), f"{Q0}.type", "must be one of: single, requirement"),
    (_delete(lambda d: _q(d)["text"], "en"), f"{Q0}.text", "missing required field 'en'"),
    (_set(_q, "level", 6), f"{Q0}.level", "must be at most 5"),
    (_set(_q, "weight", 0), f"{Q0}.weight", "must be greater than 0"),
    (_set(_q, "id", "Q Single"), f"{Q0}.id", "does not match the required pattern"),
    (
        _delete(lambda d: d["dimensions"][0]["indicators"][1]["questions"][0], "anchors"),
        "$.dimensions[0].indicators[1].questions[0]",
        "missing required field 'anchors'",
    ),
    # semantic: sums, uniqueness, ordering, references, combinations
    (
        _set(lambda d: d["dimensions"][0], "weight", 70),
        "$.dimensions",
        "maturity dimension weights must sum to 100 (they sum to 110)",
    ),
    (
        _set(lambda d: _q(d, q=1), "id", "q_single"),
        "$.dimensions[0].indicators[0].questions[1].id",
        "duplicate question id 'q_single'",
    ),
    (
        _set(lambda d: d["dimensions"][0]["indicators"][1]["questions"][0], "anchors", [[0, 0], [50, 0.5], [40, 0.8]]),
        "$.dimensions[0].indicators[1].questions[0].anchors[2][0]",
        "x must be strictly greater than the previous",
    ),
    (
        _set(lambda d: d["packs"][0], "reweight", {"ops": 6, "sales": -6}),
        "$.packs[0].reweight.ops",
        "must be within ±5 points (found +6)",
    ),
    (
        _set(lambda d: d["packs"][0], "reweight", {"ops": 5, "sales": -4}),
        "$.packs[0].reweight",
        "must still sum to 100 (they sum to 101)",
    ),
    (
        _set(lambda d: _q(d)["options"][0], "exclusive", True),
        f"{Q0}.options[0].exclusive",
        "only multi-select questions have an exclusive option",
    ),
    (_set(_q, "level", 4), f"{Q0}.level", "must be at most 3 (the staircase has that many levels)"),
    (_set(_q, "na_allowed", True), f"{Q0}.na_allowed", "a critical question cannot be answered N/A"),
    (_set(_q, "evidence", {"kinds": ["selfie"]}), f"{Q0}.evidence.kinds[0]", "unknown evidence kind 'selfie'"),
    (
        _delete(lambda d: _q(d, dim=1, q=2), "evidence"),
        "$.dimensions[1].indicators[0].questions[2]",
        "missing required field 'evidence'",
    ),
    (
        _set(lambda d: d["plausibility"]["rules"][0]["when"][0], "question", "q_gone"),
        "$.plausibility.rules[0].when[0].question",
        "unknown question 'q_gone'",
    ),
    (
        _set(lambda d: d["parameters"]["composite"], "outcome", 0.2),
        "$.parameters.composite",
        "must sum to 1 (they sum to 1.05)",
    ),
    (
        _set(lambda d: d["parameters"]["levels"], "staircase", [[60], [75, 60], [50, 75, 60]]),
        "$.parameters.levels.staircase[2]",
        "must not be lower than the level below's",
    ),
    (
        _set(lambda d: _q(d, dim=1, q=0), "options", [{"id": "a", "value": 1, "label": {"zh": "甲", "en": "A"}}] * 2),
        "$.dimensions[1].indicators[0].questions[0].options",
        "is not used by questions of type 'adoption'",
    ),
]


def _write(path: Path, data: Data) -> Path:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_the_toy_itself_is_valid(tmp_path):
    assert load_instrument_file(_write(tmp_path / "toy.yaml", toy())).id == "demo"


@pytest.mark.parametrize(("mutate", "path", "reason"), BROKEN, ids=[f"{p}:{r[:28]}" for _, p, r in BROKEN])
def test_broken_file_names_file_path_and_reason(tmp_path, mutate, path, reason):
    data = toy()
    mutate(data)
    target = _write(tmp_path / "broken.yaml", data)
    with pytest.raises(InstrumentError) as caught:
        load_instrument_file(target)
    lines = str(caught.value).splitlines()
    assert any(line.startswith(f"{target}: {path}: ") and reason in line for line in lines), lines
    assert all((str(target), path) != p[:2] or reason in p[2] for p in caught.value.problems if p[1] == path)


def test_dict_source_is_named(toy_factory):
    data = toy_factory()
    data["dimensions"][1]["weight"] = "heavy"
    with pytest.raises(InstrumentError, match=r"^admin-upload: \$\.dimensions\[1\]\.weight: must be a number"):
        load_instrument(data, source="admin-upload")


def test_yaml_errors_give_line_and_column(tmp_path):
    dup = tmp_path / "dup.yaml"
    dup.write_text("format: 1\nid: x\nid: y\n", encoding="utf-8")
    with pytest.raises(InstrumentError, match=rf"^{dup}: line 3, column 1: invalid YAML: duplicate key 'id'"):
        load_instrument_file(dup)
    bad = tmp_path / "bad.yaml"
    bad.write_text("format: 1\ndimensions: [\n", encoding="utf-8")
    with pytest.raises(InstrumentError, match=rf"^{bad}: line \d+, column \d+: invalid YAML"):
        load_instrument_file(bad)
    with pytest.raises(InstrumentError, match="cannot read file"):
        load_instrument_file(tmp_path / "missing.yaml")
    listy = tmp_path / "list.yaml"
    listy.write_text("- 1\n", encoding="utf-8")
    with pytest.raises(InstrumentError, match=r"\$: must be a mapping at the top level"):
        load_instrument_file(listy)


def test_yaml_yes_no_stay_text_and_numeric_keys_are_rejected(tmp_path):
    text = _write(tmp_path / "toy.yaml", toy()).read_text(encoding="utf-8")
    unquoted = text.replace("'no':", "no:").replace("'yes':", "yes:")  # YAML 1.1 would read these as booleans
    assert "no: 0" in unquoted
    (tmp_path / "toy.yaml").write_text(unquoted, encoding="utf-8")
    assert load_instrument_file(tmp_path / "toy.yaml").params.tri_state == {"no": 0, "partly": 0.5, "yes": 1}
    (tmp_path / "keys.yaml").write_text(unquoted.replace("rank_weights:", "1: 2\n    rank_weights:"), "utf-8")
    with pytest.raises(InstrumentError, match=r"\$\.parameters\.priority: key 1 must be text"):
        load_instrument_file(tmp_path / "keys.yaml")


def test_pack_file_errors_name_the_pack_file(tmp_path):
    data = toy()
    pack = data.pop("packs")[0]
    (tmp_path / "packs").mkdir()
    data["pack_files"] = ["packs/silk.yaml"]
    main = _write(tmp_path / "main.yaml", data)
    pack_file = tmp_path / "packs" / "silk.yaml"
    _write(pack_file, pack)
    assert load_instrument_file(main).packs[0].id == "silk"
    with pytest.raises(InstrumentError, match=rf"{pack_file}: \$: missing required field 'format'\n"):
        load_instrument_file(pack_file)  # a pack file is not an instrument
    pack["indicators"][0]["weight"] = "x"
    _write(pack_file, pack)
    with pytest.raises(InstrumentError, match=rf"^{pack_file}: \$\.indicators\[0\]\.weight: must be a number"):
        load_instrument_file(main)
    pack["indicators"][0]["weight"] = 1
    pack["reweight"] = {"ops": 7, "sales": -7}
    _write(pack_file, pack)
    with pytest.raises(InstrumentError, match=rf"^{pack_file}: \$\.reweight\.ops: must be within ±5 points"):
        load_instrument_file(main)
    with pytest.raises(InstrumentError, match=r"pack files need a base directory"):
        load_instrument(data)


def test_checksum_is_canonical_and_content_sensitive():
    a, b = toy(), toy()
    b["parameters"]["bands"]["cutpoints"] = [20.0, 40.0, 60.0, 80.0]  # 20.0 and 20 are the same content
    reordered = dict(reversed(list(a.items())))
    assert instrument_checksum(a) == instrument_checksum(b) == instrument_checksum(reordered)
    assert load_instrument(a).checksum == instrument_checksum(a)
    b["dimensions"][0]["name"]["zh"] = "运营管理"  # any edit, even a label, is a new checksum
    assert instrument_checksum(a) != instrument_checksum(b)
    assert len(instrument_checksum(a)) == 64
