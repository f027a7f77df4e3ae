"""Load, validate and checksum instrument versions; the only module in scoring/ that reads files."""

from __future__ import annotations

import copy
import hashlib
import json
import math
import re
from collections.abc import Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from scoring.build import build_instrument
from scoring.checks import semantic_problems
from scoring.errors import InstrumentError
from scoring.model import Instrument

_MAX_PROBLEMS = 25
_JSON_TYPES = {
    "object": "a mapping",
    "array": "a list",
    "string": "text",
    "number": "a number",
    "integer": "an integer",
    "boolean": "true or false",
    "null": "empty",
}


try:  # libyaml is about three times faster; fall back to the pure-Python loader without it
    from yaml import CSafeLoader as _SafeBase
except ImportError:  # pragma: no cover
    from yaml import SafeLoader as _SafeBase  # type: ignore[assignment]


class _Loader(_SafeBase):
    """YAML 1.2-style safe loader: only true/false are booleans, dates stay text, duplicate keys fail."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        """Build a mapping and reject a key that appears twice."""
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}", key_node.start_mark)
            seen.add(key)
        mapping: dict[Any, Any] = super().construct_mapping(node, deep=deep)
        return mapping


_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")]
    for first, resolvers in _SafeBase.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def load_instrument_file(path: str | Path) -> Instrument:
    """Read an instrument YAML file (and its ``pack_files``), validate it and return the parsed instrument.

    :raises InstrumentError: naming the file, the JSON path and the reason for every problem found.
    """
    return _load(_read_yaml(Path(path), str(path)), str(path), Path(path).parent)[0]


def read_instrument_data(path: str | Path) -> dict[str, Any]:
    """Read and fully validate an instrument file; return its content with the pack files merged in.

    This is the self-contained content an app stores for a version: ``load_instrument(data)`` gives the same
    instrument and checksum without the files.

    :raises InstrumentError: naming the file (or pack file), the JSON path and the reason for every problem found.
    """
    return _load(_read_yaml(Path(path), str(path)), str(path), Path(path).parent)[1]


def load_instrument(data: Mapping[str, Any], source: str = "<dict>", base_dir: str | Path | None = None) -> Instrument:
    """Validate an instrument given as a dict (as parsed from YAML or JSON) and return the parsed instrument.

    ``pack_files`` entries are resolved against ``base_dir``; without it they are an error.

    :raises InstrumentError: naming the source, the JSON path and the reason for every problem found.
    """
    return _load(data, source, base_dir)[0]


def _load(data: Mapping[str, Any], source: str, base_dir: str | Path | None) -> tuple[Instrument, dict[str, Any]]:
    raw: dict[str, Any] = copy.deepcopy(dict(data))
    _raise_if(_plain_data_problems(raw, source))
    _raise_if(_schema_problems(raw, source, "instrument"))
    merged, sources = _merge_pack_files(raw, source, base_dir)
    problems = [
        (_source_for(path, source, sources), _path_for(path, sources), why) for path, why in semantic_problems(merged)
    ]
    _raise_if(problems)
    return build_instrument(merged, instrument_checksum(merged)), copy.deepcopy(merged)


def instrument_checksum(data: Mapping[str, Any]) -> str:
    """Return the SHA-256 hex digest of the canonical JSON form of merged instrument content.

    Canonical form: keys sorted, no insignificant whitespace, UTF-8, integral floats written as integers, and
    ``pack_files`` already replaced by the packs they name (so the checksum covers every pack's content).
    """
    text = json.dumps(_canonical(data), sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _canonical(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _read_yaml(path: Path, source: str) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InstrumentError([(source, "$", f"cannot read file: {exc}")]) from exc
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a safe loader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "$"
        raise InstrumentError([(source, where, f"invalid YAML: {exc.problem}")]) from exc
    except yaml.YAMLError as exc:
        raise InstrumentError([(source, "$", f"invalid YAML: {exc}")]) from exc
    if not isinstance(data, dict):
        raise InstrumentError([(source, "$", "must be a mapping at the top level")])
    return data


def _merge_pack_files(
    data: dict[str, Any], source: str, base_dir: str | Path | None
) -> tuple[dict[str, Any], dict[int, str]]:
    files = data.pop("pack_files", [])
    packs = list(data.get("packs", []))
    sources: dict[int, str] = {}
    problems: list[tuple[str, str, str]] = []
    for i, name in enumerate(files):
        if base_dir is None:
            problems.append((source, f"$.pack_files[{i}]", "pack files need a base directory; load from a file"))
            continue
        pack_source = str(Path(base_dir) / name)
        pack = _read_yaml(Path(base_dir) / name, pack_source)
        found = _plain_data_problems(pack, pack_source) or _schema_problems(pack, pack_source, "pack")
        problems.extend(found)
        sources[len(packs)] = pack_source
        packs.append(pack)
    _raise_if(problems)
    data["packs"] = packs
    return data, sources


def _source_for(path: str, source: str, sources: dict[int, str]) -> str:
    match = re.match(r"^\$\.packs\[(\d+)\]", path)
    return sources.get(int(match.group(1)), source) if match else source


def _path_for(path: str, sources: dict[int, str]) -> str:
    match = re.match(r"^\$\.packs\[(\d+)\]", path)
    if match and int(match.group(1)) in sources:
        return "$" + path[match.end() :]
    return path


def _raise_if(problems: list[tuple[str, str, str]]) -> None:
    if problems:
        raise InstrumentError(problems[:_MAX_PROBLEMS])


def _plain_data_problems(value: Any, source: str, path: str = "$") -> list[tuple[str, str, str]]:
    """Reject non-text keys and non-finite numbers, which JSON (and the checksum) cannot carry."""
    problems: list[tuple[str, str, str]] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                problems.append((source, path, f"key {key!r} must be text (quote it)"))
                continue
            problems.extend(_plain_data_problems(item, source, f"{path}.{key}"))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            problems.extend(_plain_data_problems(item, source, f"{path}[{i}]"))
    elif isinstance(value, float) and not math.isfinite(value):
        problems.append((source, path, "must be a finite number"))
    return problems


@cache
def _validator(root: str) -> jsonschema.Draft202012Validator:
    text = resources.files("scoring").joinpath("schema/instrument.schema.json").read_text(encoding="utf-8")
    schema = json.loads(text)
    if root != "instrument":
        schema = {"$schema": schema["$schema"], "$defs": schema["$defs"], "$ref": f"#/$defs/{root}"}
    return jsonschema.Draft202012Validator(schema)


def _schema_problems(data: Any, source: str, root: str) -> list[tuple[str, str, str]]:
    errors = sorted(_validator(root).iter_errors(data), key=lambda e: ([str(p) for p in e.absolute_path], e.message))
    return [(source, _format_path(e.absolute_path), _reason(e)) for e in errors]


def _format_path(parts: Any) -> str:
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts)


def _reason(error: jsonschema.ValidationError) -> str:
    """Turn a jsonschema error into a short reason an analyst can act on."""
    kind, got = str(error.validator), error.instance
    want: Any = error.validator_value
    if "propertyNames" in error.schema_path:
        return f"key {got!r} is not a valid id (lowercase letters, digits, '_', '.', '-'; starting with a letter)"
    if kind == "type":
        wanted = [want] if isinstance(want, str) else [str(w) for w in want]
        return "must be " + " or ".join(_JSON_TYPES.get(w, w) for w in wanted)
    if kind == "required":  # jsonschema reports one error per missing field: "'x' is a required property"
        return "missing required field " + error.message.removesuffix(" is a required property")
    if kind == "additionalProperties" and isinstance(got, dict):
        schema = error.schema if isinstance(error.schema, Mapping) else {}
        known = set(schema.get("properties", {}))
        return "unknown field " + ", ".join(repr(k) for k in sorted(set(got) - known))
    if kind == "enum":
        return "must be one of: " + ", ".join(str(w) for w in want)
    if kind == "const":
        return f"must be {want!r}"
    reasons = {
        "minimum": f"must be at least {want}",
        "maximum": f"must be at most {want}",
        "exclusiveMinimum": f"must be greater than {want}",
        "exclusiveMaximum": f"must be less than {want}",
        "minLength": "must not be empty",
        "minItems": f"must have at least {want} item(s)",
        "maxItems": f"must have at most {want} item(s)",
        "items": "has too many items",
        "uniqueItems": "must not contain duplicates",
        "pattern": f"{got!r} does not match the required pattern {want}",
        "minProperties": "needs a comparison (score_gte, score_lte, value_lt or value_gte)",
    }
    return reasons.get(kind, str(error.message))
