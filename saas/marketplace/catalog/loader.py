"""Load the catalogue from YAML (pure): one file per industry plus ``_shared.yaml``.

Every problem found while loading is reported with its file, line, path and reason, and the whole catalogue is
refused (docs/marketplace.md).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from saas.marketplace.catalog.model import (
    ATTRIBUTE_ID_RE,
    ATTRIBUTE_TYPES,
    GBT4754_RE,
    INDUSTRY_RE,
    MAX_DEPTH,
    MAX_LABEL_LENGTH,
    MAX_TEXT_LENGTH,
    MULTI_SEPARATORS,
    OPTION_ID_RE,
    SLUG_RE,
    UNIT_ID_RE,
    Attribute,
    Catalog,
    CatalogError,
    Category,
    Industry,
    Label,
    Option,
    Problem,
    SaleUnit,
    Unit,
    lookup_key,
    split_choices,
)

CATALOG_DIR = Path(__file__).parent  # the YAML files live beside the code, in this package
SHARED_FILE = "_shared.yaml"
_INDUSTRY_KEYS = {"zh", "en", "gbt4754", "sale_units", "attributes", "categories"}
_CATEGORY_KEYS = {"slug", "zh", "en", "gbt4754", "sale_units", "attributes", "children"}
_ATTRIBUTE_KEYS = {
    "id",
    "type",
    "zh",
    "en",
    "required",
    "filterable",
    "searchable",
    "unit",
    "min",
    "max",
    "step",
    "buckets",
    "options",
    "max_choices",
    "max_length",
}
_OVERRIDABLE = {"zh", "en", "required", "filterable", "searchable", "min", "max", "step", "buckets"}
_OVERRIDABLE |= {"max_choices", "max_length"}
_TYPE_KEYS = {
    "number": {"unit", "min", "max", "step", "buckets"},
    "enum": {"options"},
    "multi_enum": {"options", "max_choices"},
    "text": {"max_length"},
}


class _Loader(yaml.SafeLoader):
    """Safe YAML that refuses duplicate keys and remembers the line of every mapping."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.lines: dict[int, int] = {}


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> dict[Any, Any]:
    loader.flatten_mapping(node)
    seen: set[Any] = set()
    for key_node, _value in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            duplicate = key in seen
            seen.add(key)
        except TypeError:
            continue  # unhashable: construct_mapping reports it
        if duplicate:
            raise yaml.constructor.ConstructorError(
                "while reading a mapping", node.start_mark, f"duplicate key {key!r}", key_node.start_mark
            )
    mapping = loader.construct_mapping(node, deep=True)
    loader.lines[id(mapping)] = node.start_mark.line + 1
    return mapping


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


class _Reader:
    """Collects problems for one file."""

    def __init__(self, file: str, problems: list[Problem]) -> None:
        self.file = file
        self.problems = problems
        self.lines: dict[int, int] = {}

    def load(self, path: Path) -> Any:
        try:
            text = path.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            self.fail(None, "", f"cannot read the file ({exc})")
            return None
        loader = _Loader(text)
        try:
            data = loader.get_single_data()
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            reason = " ".join(str(getattr(exc, "problem", None) or exc).split())
            self.problems.append(Problem(self.file, "", f"invalid YAML: {reason}", mark.line + 1 if mark else None))
            return None
        finally:
            loader.dispose()
        self.lines = loader.lines
        return data

    def fail(self, node: Any, path: str, reason: str) -> None:
        self.problems.append(Problem(self.file, path, reason, self.lines.get(id(node))))

    def mapping(self, node: Any, path: str, allowed: set[str], required: tuple[str, ...] = ()) -> dict[str, Any] | None:
        if not isinstance(node, dict):
            self.fail(node, path, f"must be a mapping, not {_kind(node)}")
            return None
        for key in node:
            if key not in allowed:
                hint = f" (allowed: {', '.join(sorted(allowed))})" if len(allowed) < 20 else ""
                self.fail(node, _join(path, str(key)), f"unknown key{hint}")
        for key in required:
            if key not in node:
                self.fail(node, path, f"missing required key '{key}'")
        return node

    def label(self, node: dict[str, Any], path: str) -> Label | None:
        values = []
        for lang in ("zh", "en"):
            value = node.get(lang)
            if not isinstance(value, str) or not value.strip():
                if lang in node:
                    self.fail(node, _join(path, lang), f"must be a non-empty string, not {_kind(value)}")
                return None
            if len(value) > MAX_LABEL_LENGTH:
                self.fail(node, _join(path, lang), f"longer than {MAX_LABEL_LENGTH} characters")
            values.append(value.strip())
        return Label(*values)

    def flag(self, node: dict[str, Any], key: str, path: str) -> bool:
        value = node.get(key, False)
        if not isinstance(value, bool):
            self.fail(node, _join(path, key), f"must be true or false, not {_kind(value)}")
            return False
        return value

    def number(self, node: dict[str, Any], key: str, path: str) -> Decimal | None:
        value = node.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(node, _join(path, key), f"must be a number, not {_kind(value)}")
            return None
        result = Decimal(str(value))
        if not result.is_finite():
            self.fail(node, _join(path, key), "must be a finite number")
            return None
        return result

    def positive_int(self, node: dict[str, Any], key: str, path: str, limit: int) -> int | None:
        value = node.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= limit:
            self.fail(node, _join(path, key), f"must be a whole number from 1 to {limit}")
            return None
        return value

    def id_list(self, node: dict[str, Any], key: str, path: str, known: Mapping[str, Any]) -> tuple[str, ...] | None:
        value = node.get(key)
        if value is None:
            return None
        if not isinstance(value, list) or not value or not all(isinstance(item, str) for item in value):
            self.fail(node, _join(path, key), "must be a non-empty list of ids")
            return None
        for item in value:
            if item not in known:
                self.fail(node, _join(path, key), f"unknown {key.rstrip('s').replace('_', ' ')} '{item}'")
        if len(set(value)) != len(value):
            self.fail(node, _join(path, key), "lists an id twice")
        return tuple(value)


def _kind(value: Any) -> str:
    if value is None:
        return "empty"
    return {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), type(value).__name__
    )


def _join(path: str, part: str) -> str:
    return f"{path}.{part}" if path else part


def _item(path: str, key: str, index: int, node: Any, name: str) -> str:
    """``key[slug]`` when the item has a usable string name, else ``key[index]``."""
    label = node.get(name) if isinstance(node, dict) else None
    return _join(path, f"{key}[{label if isinstance(label, str) and label else index}]")


# --- shared definitions ----------------------------------------------------------------------------------------------


def _read_units(reader: _Reader, node: Any) -> dict[str, Unit]:
    units: dict[str, Unit] = {}
    if not isinstance(node, dict):
        reader.fail(node, "units", "must be a mapping of unit id to definition")
        return units
    for unit_id, spec in node.items():
        path = f"units[{unit_id}]"
        if not isinstance(unit_id, str) or not UNIT_ID_RE.match(unit_id):
            reader.fail(node, path, "unit ids are lower-case letters, digits and '_'")
            continue
        spec = reader.mapping(spec, path, {"zh", "en", "aliases", "convert"}, ("zh", "en"))
        label = reader.label(spec, path) if spec is not None else None
        if spec is None or label is None:
            continue
        factors: dict[str, Decimal] = {}
        aliases = spec.get("aliases", [])
        if not isinstance(aliases, list) or not all(isinstance(alias, str) and alias.strip() for alias in aliases):
            reader.fail(spec, _join(path, "aliases"), "must be a list of non-empty strings")
            aliases = []
        for spelling in [unit_id, label.zh, label.en, *aliases]:
            factors[lookup_key(spelling)] = Decimal(1)
        convert = spec.get("convert", {})
        if not isinstance(convert, dict):
            reader.fail(spec, _join(path, "convert"), "must be a mapping of unit spelling to factor")
            convert = {}
        for spelling, factor in convert.items():
            where = _join(path, f"convert[{spelling}]")
            if not isinstance(spelling, str) or not spelling.strip():
                reader.fail(convert, where, "unit spellings must be non-empty strings")
            elif isinstance(factor, bool) or not isinstance(factor, int | float) or not factor > 0:
                reader.fail(convert, where, "the factor must be a positive number")
            elif lookup_key(spelling) in factors:
                reader.fail(convert, where, "this spelling already means the unit itself")
            else:
                factors[lookup_key(spelling)] = Decimal(str(factor))
        units[unit_id] = Unit(unit_id, label, MappingProxyType(factors))
    return units


def _read_sale_units(reader: _Reader, node: Any) -> list[SaleUnit]:
    result: list[SaleUnit] = []
    if not isinstance(node, list) or not node:
        reader.fail(node, "sale_units", "must be a non-empty list")
        return result
    for index, spec in enumerate(node):
        path = _item("", "sale_units", index, spec, "id")
        spec = reader.mapping(spec, path, {"id", "zh", "en", "decimals"}, ("id", "zh", "en", "decimals"))
        if spec is None:
            continue
        unit_id, label, decimals = spec.get("id"), reader.label(spec, path), spec.get("decimals")
        if not isinstance(unit_id, str) or not UNIT_ID_RE.match(unit_id):
            reader.fail(spec, _join(path, "id"), "sale unit ids are lower-case letters, digits and '_'")
        elif any(unit.id == unit_id for unit in result):
            reader.fail(spec, _join(path, "id"), f"duplicate sale unit '{unit_id}'")
        elif isinstance(decimals, bool) or not isinstance(decimals, int) or not 0 <= decimals <= 4:
            reader.fail(spec, _join(path, "decimals"), "must be a whole number from 0 to 4")
        elif label is not None:
            result.append(SaleUnit(unit_id, label, decimals))
    return result


# --- attributes ------------------------------------------------------------------------------------------------------


def _read_attribute(
    reader: _Reader, spec: Any, path: str, units: Mapping[str, Unit], owner: str, attr_id: str | None = None
) -> Attribute | None:
    """Validate one full attribute definition (``attr_id`` is given for shared ones, keyed by id)."""
    allowed = _ATTRIBUTE_KEYS - {"id"} if attr_id else _ATTRIBUTE_KEYS
    spec = reader.mapping(spec, path, allowed, ("type", "zh", "en") if attr_id else ("id", "type", "zh", "en"))
    if spec is None:
        return None
    ok = True
    attr_id = attr_id if attr_id is not None else spec.get("id")
    if not isinstance(attr_id, str) or not ATTRIBUTE_ID_RE.match(attr_id):
        reader.fail(spec, _join(path, "id"), "attribute ids are 1-40 lower-case letters, digits and '_', from a letter")
        ok = False
    kind = spec.get("type")
    if kind not in ATTRIBUTE_TYPES:
        reader.fail(spec, _join(path, "type"), f"must be one of {', '.join(ATTRIBUTE_TYPES)}")
        return None
    for key in spec:
        if key in _ATTRIBUTE_KEYS - {"id", "type", "zh", "en", "required", "filterable", "searchable"}:
            if key not in _TYPE_KEYS[kind]:
                reader.fail(spec, _join(path, key), f"not allowed for a {kind} attribute")
                ok = False
    label = reader.label(spec, path)
    flags = {key: reader.flag(spec, key, path) for key in ("required", "filterable")}
    searchable = spec.get("searchable", True)
    if not isinstance(searchable, bool):
        reader.fail(spec, _join(path, "searchable"), "must be true or false")
        ok = False
    extra: dict[str, Any] = {}
    if kind == "number":
        ok &= _read_number_spec(reader, spec, path, units, extra)
    elif kind in ("enum", "multi_enum"):
        ok &= _read_options(reader, spec, path, kind, extra)
    else:
        max_length = reader.positive_int(spec, "max_length", path, MAX_TEXT_LENGTH)
        if max_length is None:
            reader.fail(spec, path, f"a text attribute needs max_length (1 to {MAX_TEXT_LENGTH})")
            ok = False
        if flags["filterable"]:
            reader.fail(spec, _join(path, "filterable"), "free text cannot be a facet; use an enum")
            ok = False
        extra["max_length"] = max_length
    if not ok or label is None:
        return None
    return Attribute(
        id=attr_id, type=kind, label=label, searchable=bool(searchable), defined_in=owner, **flags, **extra
    )


def _read_number_spec(reader: _Reader, spec: dict[str, Any], path: str, units: Mapping[str, Unit], out: dict) -> bool:
    ok = True
    unit_id = spec.get("unit")
    if unit_id is not None and unit_id not in units:
        reader.fail(spec, _join(path, "unit"), f"unknown unit '{unit_id}' (see _shared.yaml units)")
        ok = False
    low, high, step = (reader.number(spec, key, path) for key in ("min", "max", "step"))
    if low is None or high is None:
        reader.fail(spec, path, "a number attribute needs min and max")
        return False
    if low >= high:
        reader.fail(spec, _join(path, "max"), f"must be greater than min ({low})")
        ok = False
    if step is not None and step <= 0:
        reader.fail(spec, _join(path, "step"), "must be greater than 0")
        ok = False
    buckets = spec.get("buckets", [])
    if not isinstance(buckets, list) or not all(
        isinstance(b, int | float) and not isinstance(b, bool) for b in buckets
    ):
        reader.fail(spec, _join(path, "buckets"), "must be a list of numbers")
        return False
    edges = tuple(Decimal(str(b)) for b in buckets)
    if any(a >= b for a, b in zip(edges, edges[1:], strict=False)):
        reader.fail(spec, _join(path, "buckets"), "must be strictly increasing")
        ok = False
    if edges and not (low < edges[0] and edges[-1] < high):
        reader.fail(spec, _join(path, "buckets"), f"must lie strictly between min ({low}) and max ({high})")
        ok = False
    out.update(unit=units.get(unit_id) if unit_id else None, min=low, max=high, step=step, buckets=edges)
    return ok


def _read_options(reader: _Reader, spec: dict[str, Any], path: str, kind: str, out: dict) -> bool:
    options_node = spec.get("options")
    if not isinstance(options_node, list) or not options_node:
        reader.fail(spec, _join(path, "options"), "an enum needs a non-empty list of options")
        return False
    ok = True
    options: list[Option] = []
    lookup: dict[str, str] = {}
    for index, option in enumerate(options_node):
        where = _item(path, "options", index, option, "id")
        option = reader.mapping(option, where, {"id", "zh", "en", "aliases"}, ("id", "zh", "en"))
        if option is None:
            ok = False
            continue
        option_id, label, aliases = option.get("id"), reader.label(option, where), option.get("aliases", [])
        if not isinstance(option_id, str) or not OPTION_ID_RE.match(option_id):
            reader.fail(option, _join(where, "id"), "option ids are lower-case letters and digits joined by - or _")
            ok = False
            continue
        if not isinstance(aliases, list) or not all(isinstance(a, str) and a.strip() for a in aliases):
            reader.fail(option, _join(where, "aliases"), "must be a list of non-empty strings")
            ok = False
            continue
        if label is None:
            ok = False
            continue
        for spelling in (option_id, label.zh, label.en, *aliases):
            key = lookup_key(spelling)
            if kind == "multi_enum" and spelling != option_id and len(split_choices(spelling)) != 1:
                reader.fail(option, where, f"'{spelling}' contains a choice separator ({MULTI_SEPARATORS.strip()})")
                ok = False
            if lookup.setdefault(key, option_id) != option_id:
                reader.fail(option, where, f"'{spelling}' also names option '{lookup[key]}'")
                ok = False
        options.append(Option(option_id, label, tuple(aliases)))
    max_choices = reader.positive_int(spec, "max_choices", path, len(options_node))
    out.update(options=tuple(options), lookup=MappingProxyType(lookup), max_choices=max_choices)
    return ok


def _resolve_attribute(
    reader: _Reader, spec: Any, path: str, units: Mapping[str, Unit], shared: Mapping[str, Any], owner: str
) -> Attribute | None:
    """A full definition, or ``use: <shared id>`` with overrides merged into the shared definition."""
    if isinstance(spec, dict) and "use" in spec:
        name = spec["use"]
        if not isinstance(name, str) or name not in shared:
            reader.fail(spec, _join(path, "use"), f"unknown shared attribute '{name}' (see _shared.yaml attributes)")
            return None
        if shared[name] is None:
            return None  # the shared definition is invalid and already reported
        for key in spec:
            if key != "use" and key not in _OVERRIDABLE:
                reader.fail(
                    spec, _join(path, key), f"cannot be overridden (allowed: {', '.join(sorted(_OVERRIDABLE))})"
                )
                return None
        merged = {**shared[name], **{k: v for k, v in spec.items() if k != "use"}}
        reader.lines[id(merged)] = reader.lines.get(id(spec), 0)
        return _read_attribute(reader, merged, path, units, owner, attr_id=name)
    return _read_attribute(reader, spec, path, units, owner)


# --- industries and categories ---------------------------------------------------------------------------------------


@dataclass
class _Context:
    reader: _Reader
    units: Mapping[str, Unit]
    sale_units: Mapping[str, SaleUnit]
    shared: Mapping[str, Any]
    industry: str
    out: dict[str, Category]


def _read_attribute_list(
    ctx: _Context, node: dict[str, Any], path: str, owner: str, inherited: Mapping[str, str]
) -> tuple[Attribute, ...]:
    specs = node.get("attributes", [])
    if not isinstance(specs, list):
        ctx.reader.fail(node, _join(path, "attributes"), "must be a list")
        return ()
    result: list[Attribute] = []
    for index, spec in enumerate(specs):
        name = "use" if isinstance(spec, dict) and "use" in spec else "id"
        where = _item(path, "attributes", index, spec, name)
        attr = _resolve_attribute(ctx.reader, spec, where, ctx.units, ctx.shared, owner)
        if attr is None:
            continue
        if attr.id in inherited:
            ctx.reader.fail(spec, where, f"attribute '{attr.id}' is already defined by {inherited[attr.id]}")
        elif any(other.id == attr.id for other in result):
            ctx.reader.fail(spec, where, f"attribute '{attr.id}' is defined twice")
        else:
            result.append(attr)
    return tuple(result)


def _read_category(
    ctx: _Context,
    node: Any,
    path: str,
    parent: Category | Industry,
    siblings: set[str],
) -> str | None:
    reader = ctx.reader
    node = reader.mapping(node, path, _CATEGORY_KEYS, ("slug", "zh", "en"))
    if node is None:
        return None
    segment = node.get("slug")
    if not isinstance(segment, str) or not SLUG_RE.match(segment):
        reader.fail(node, _join(path, "slug"), "slugs are lower-case ASCII letters and digits joined by single '-'")
        return None
    if segment in siblings:
        reader.fail(node, _join(path, "slug"), f"duplicate slug '{segment}' under the same parent")
        return None
    siblings.add(segment)
    is_industry = isinstance(parent, Industry)
    slug = f"{parent.slug}/{segment}"
    depth = 1 if is_industry else parent.depth + 1  # type: ignore[union-attr]
    if depth > MAX_DEPTH:
        reader.fail(node, path, f"categories may be at most {MAX_DEPTH} levels deep")
        return None
    label = reader.label(node, path)
    gbt = node.get("gbt4754", parent.gbt4754)
    if "gbt4754" in node and (not isinstance(gbt, str) or not GBT4754_RE.match(gbt)):
        reader.fail(node, _join(path, "gbt4754"), "must be a GB/T 4754 code such as C17 or C1761")
    sale_units = reader.id_list(node, "sale_units", path, ctx.sale_units) or parent.sale_units
    inherited = {attr.id: attr.defined_in for attr in parent.attributes}
    own = _read_attribute_list(ctx, node, path, slug, inherited)
    attributes = parent.attributes + own
    ctx.out[slug] = None  # type: ignore[assignment]  # reserve the pre-order position before the children
    parent_slug = None if is_industry else parent.slug  # type: ignore[union-attr]
    base = Category(
        slug, ctx.industry, label or Label("", ""), parent_slug, (), depth, own, attributes, sale_units, gbt
    )
    children_node = node.get("children", [])
    children: list[str] = []
    if not isinstance(children_node, list):
        reader.fail(node, _join(path, "children"), "must be a list of categories")
    else:
        seen: set[str] = set()
        for child_index, child in enumerate(children_node):
            child_path = _item(path, "children", child_index, child, "slug")
            child_slug = _read_category(ctx, child, child_path, base, seen)
            if child_slug:
                children.append(child_slug)
    if not children and not sale_units:
        reader.fail(node, path, "a leaf category needs sale_units (here, on an ancestor or on the industry)")
    ctx.out[slug] = replace(base, children=tuple(children))
    return slug


def _read_industry(ctx: _Context, data: Any) -> Industry | None:
    reader = ctx.reader
    node = reader.mapping(data, "", _INDUSTRY_KEYS, ("zh", "en", "categories"))
    if node is None:
        return None
    label = reader.label(node, "")
    gbt = node.get("gbt4754")
    if gbt is not None and (not isinstance(gbt, str) or not GBT4754_RE.match(gbt)):
        reader.fail(node, "gbt4754", "must be a GB/T 4754 code such as C17 or C1761")
        gbt = None
    sale_units = reader.id_list(node, "sale_units", "", ctx.sale_units) or ()
    attributes = _read_attribute_list(ctx, node, "", ctx.industry, {})
    slug = ctx.industry.replace("_", "-")
    industry = Industry(ctx.industry, slug, label or Label("", ""), gbt, attributes, sale_units, ())
    roots: list[str] = []
    categories = node.get("categories")
    if not isinstance(categories, list) or not categories:
        reader.fail(node, "categories", "must be a non-empty list of categories")
    else:
        seen: set[str] = set()
        for index, child in enumerate(categories):
            root = _read_category(ctx, child, _item("", "categories", index, child, "slug"), industry, seen)
            if root:
                roots.append(root)
    if label is None:
        return None
    return Industry(ctx.industry, slug, label, gbt, attributes, sale_units, tuple(roots))


# --- loading ---------------------------------------------------------------------------------------------------------


def load_catalog(directory: Path | str = CATALOG_DIR) -> Catalog:
    """Load and validate every catalogue file in ``directory``; raise CatalogError listing all problems."""
    directory = Path(directory)
    problems: list[Problem] = []
    shared_reader = _Reader(SHARED_FILE, problems)
    shared_data = shared_reader.load(directory / SHARED_FILE) if (directory / SHARED_FILE).exists() else None
    if shared_data is None and not problems:
        shared_reader.fail(None, "", "missing or empty")
    shared = shared_reader.mapping(shared_data, "", {"industries", "units", "sale_units", "attributes"}, ())
    shared = shared or {}
    units = _read_units(shared_reader, shared.get("units", {}))
    sale_units = {unit.id: unit for unit in _read_sale_units(shared_reader, shared.get("sale_units"))}
    shared_attrs_node = shared.get("attributes", {})
    shared_attributes: dict[str, Attribute] = {}
    if not isinstance(shared_attrs_node, dict):
        shared_reader.fail(shared, "attributes", "must be a mapping of attribute id to definition")
        shared_attrs_node = {}
    for attr_id, spec in shared_attrs_node.items():
        attr = _read_attribute(shared_reader, spec, f"attributes[{attr_id}]", units, "_shared", attr_id=attr_id)
        if attr is not None:
            shared_attributes[attr_id] = attr
    order = shared.get("industries")
    files = sorted(p.stem for p in directory.glob("*.yaml") if not p.name.startswith("_"))
    if not isinstance(order, list) or not order or not all(isinstance(i, str) for i in order):
        shared_reader.fail(shared, "industries", "must list the industry files in display order")
        order = files
    for name in order:
        if not INDUSTRY_RE.match(name):
            shared_reader.fail(shared, "industries", f"'{name}' is not a valid industry id (lower-case, '_')")
        elif name not in files:
            shared_reader.fail(shared, "industries", f"'{name}' has no file {name}.yaml")
    for name in files:
        if name not in order:
            shared_reader.fail(shared, "industries", f"{name}.yaml is not listed")
    usable = {k: v if k in shared_attributes else None for k, v in shared_attrs_node.items()}
    industries: list[Industry] = []
    by_slug: dict[str, Category] = {}
    for name in order:
        if name not in files or not INDUSTRY_RE.match(name):
            continue
        reader = _Reader(f"{name}.yaml", problems)
        data = reader.load(directory / f"{name}.yaml")
        if data is None:
            if not any(p.file == reader.file for p in problems):
                reader.fail(None, "", "the file is empty")
            continue
        ctx = _Context(reader, units, sale_units, usable, name, by_slug)
        industry = _read_industry(ctx, data)
        if industry is not None:
            industries.append(industry)
    if problems:
        raise CatalogError(problems)
    return Catalog(
        industries=tuple(industries),
        sale_units=tuple(sale_units.values()),
        units=MappingProxyType(units),
        shared_attributes=MappingProxyType(shared_attributes),
        by_slug=MappingProxyType(by_slug),
    )


@functools.cache
def default_catalog() -> Catalog:
    """The catalogue shipped with the application, loaded once per process."""
    return load_catalog(CATALOG_DIR)
