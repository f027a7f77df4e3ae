"""Product attribute values: validation against a category template, display text and search text (pure).

Input comes from web forms, CSV or XLSX cells, so every value may be a string: numbers may use a decimal comma or
carry their unit ("19mm", "19 姆米", "1.5米"), enum choices may be given by id or by their zh/en label, multi-enum
choices as a list or one string separated by 、 , ， ; / |. Problems are returned as error codes (``ERROR_CODES``)
that the web layer translates; ``validate_attributes`` never raises on bad input.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from typing import Any

from saas.marketplace.catalog import Attribute, lookup_key, split_choices

Value = int | float | str | list[str]

# Error code -> what it means (English reference text; the web layer owns the translated messages and can add the
# attribute's min, max, unit, max_length or max_choices to them).
ERROR_CODES: Mapping[str, str] = {
    "required": "a value is required",
    "not_a_number": "not a number",
    "bad_unit": "a unit other than the attribute's unit (or one it converts from)",
    "below_min": "smaller than the minimum",
    "above_max": "larger than the maximum",
    "step": "not a multiple of the step (too many decimals)",
    "unknown_option": "not one of the options (by id, Chinese or English label, or alias)",
    "not_single": "several choices given for a single-choice attribute",
    "too_many": "more choices than max_choices",
    "not_text": "not a text value",
    "too_long": "longer than max_length characters",
    "unknown_attribute": "not an attribute of this category",
}

MAX_INPUT_CHARS = 10_000  # longer raw strings are refused before any parsing
_NUMBER_CHARS = 64  # a number with its unit is never longer than this
_GROUPED = r"[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?"  # 1,500 or 12,345.5: commas group thousands
_PLAIN = r"\d+(?:[.,]\d+)?|[.,]\d+"  # 19, 19.5, 19,5 (decimal comma), .5
_NUMBER_RE = re.compile(rf"(?P<pre>[^\d+\-.,]*?)\s*(?P<sign>[+-]?)(?P<num>{_GROUPED}|{_PLAIN})\s*(?P<post>.*)", re.S)
_SPACES = re.compile(r"\s+")


def validate_attributes(
    template: Iterable[Attribute], raw: Mapping[str, Any], *, ignore_unknown: bool = False
) -> tuple[dict[str, Value], dict[str, str]]:
    """Clean ``raw`` against ``template``; return ``(values, errors)`` with ``errors`` mapping attribute id -> code.

    Values: numbers as int (whole) or float in the attribute's unit, enum as the option id, multi_enum as a list of
    option ids in template order, text stripped with whitespace collapsed. Empty inputs (None, "", blanks, empty
    lists) count as missing and are left out of ``values``. Keys not in the template are reported as
    ``unknown_attribute`` unless ``ignore_unknown``.
    """
    attributes = list(template)
    known = {attr.id for attr in attributes}
    values: dict[str, Value] = {}
    errors: dict[str, str] = {}
    for attr in attributes:
        raw_value = raw.get(attr.id)
        if _is_empty(raw_value):
            if attr.required:
                errors[attr.id] = "required"
            continue
        try:
            result = _PARSERS[attr.type](attr, raw_value)
        except (ArithmeticError, ValueError, TypeError, RecursionError):  # a defensive net: bad input is never a crash
            result = _Error("not_a_number" if attr.type == "number" else "not_text")
        if isinstance(result, _Error):
            errors[attr.id] = result.code
        elif _is_empty(result):
            if attr.required:
                errors[attr.id] = "required"
        else:
            values[attr.id] = result
    if not ignore_unknown:
        for key in raw:
            name = key if isinstance(key, str) else repr(key)
            if name not in known and not _is_empty(raw[key]):
                errors.setdefault(name, "unknown_attribute")
    return values, errors


class _Error:
    __slots__ = ("code",)

    def __init__(self, code: str) -> None:
        self.code = code


def _is_empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list | tuple | set | frozenset):
        return all(_is_empty(item) for item in value)
    return False


def _single(value: Any) -> Any:
    """Unwrap a one-element list (forms send lists); several non-empty items are an error."""
    if isinstance(value, list | tuple | set | frozenset):
        items = [item for item in value if not _is_empty(item)]
        return items[0] if len(items) == 1 else _Error("not_single")
    return value


# --- numbers ---------------------------------------------------------------------------------------------------------


def parse_number(attr: Attribute, value: Any) -> Decimal | _Error:
    """The number in the attribute's unit, converted if another known unit was typed; bounds are not checked."""
    if isinstance(value, bool):
        return _Error("not_a_number")
    if isinstance(value, int | float | Decimal):
        try:
            number = Decimal(str(value)) if not isinstance(value, Decimal) else value
        except InvalidOperation:
            return _Error("not_a_number")
        return number if number.is_finite() else _Error("not_a_number")
    if not isinstance(value, str) or len(value) > MAX_INPUT_CHARS:
        return _Error("not_a_number")
    text = _SPACES.sub(" ", unicodedata.normalize("NFKC", value)).strip()
    if len(text) > _NUMBER_CHARS:
        return _Error("not_a_number")
    match = _NUMBER_RE.fullmatch(text)
    if match is None:
        return _Error("not_a_number")
    digits = match["num"]
    if re.fullmatch(_GROUPED, digits):
        digits = digits.replace(",", "")
    number = Decimal(match["sign"] + digits.replace(",", "."))
    pre, post = match["pre"].strip(), match["post"].strip()
    if pre and post:
        return _Error("not_a_number" if any(ch.isdigit() for ch in post) else "bad_unit")
    spelled = pre or post
    if not spelled:
        return number
    if attr.unit is None:
        return _Error("not_a_number" if any(ch.isdigit() for ch in spelled) else "bad_unit")
    factor = attr.unit.factors.get(lookup_key(spelled))
    if factor is None:  # "19-22", "150x200" or "58/60" hold a second number; "19cm" on a momme attribute does not
        return _Error("not_a_number" if any(ch.isdigit() for ch in spelled) else "bad_unit")
    if factor != 1:
        number *= factor
        if attr.step is not None:  # a converted value is rounded to the step instead of being refused
            number = (number / attr.step).quantize(Decimal(1), rounding=ROUND_HALF_EVEN) * attr.step
    return number


def _number(attr: Attribute, value: Any) -> Value | _Error:
    value = _single(value)
    if isinstance(value, _Error):
        return value
    number = parse_number(attr, value)
    if isinstance(number, _Error):
        return number
    if attr.min is not None and number < attr.min:
        return _Error("below_min")
    if attr.max is not None and number > attr.max:
        return _Error("above_max")
    if attr.step is not None:
        base = attr.min if attr.min is not None else Decimal(0)
        if (number - base) % attr.step != 0:
            return _Error("step")
    return _plain(number)


def _plain(number: Decimal) -> int | float:
    """A JSON-friendly number: int when whole, else float."""
    return int(number) if number == number.to_integral_value() else float(number)


# --- enums and text --------------------------------------------------------------------------------------------------


def _choice(attr: Attribute, value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        return None
    text = str(value)
    if len(text) > MAX_INPUT_CHARS:
        return None
    return attr.lookup.get(lookup_key(text))


def _enum(attr: Attribute, value: Any) -> Value | _Error:
    value = _single(value)
    if isinstance(value, _Error):
        return value
    option = _choice(attr, value)
    return option if option is not None else _Error("unknown_option")


def _multi_enum(attr: Attribute, value: Any) -> Value | _Error:
    if isinstance(value, str):
        if len(value) > MAX_INPUT_CHARS:
            return _Error("unknown_option")
        items: list[Any] = split_choices(value)
    elif isinstance(value, list | tuple | set | frozenset):
        items = []
        for item in value:
            items.extend(split_choices(item) if isinstance(item, str) else [item])
    else:
        items = [value]
    chosen: set[str] = set()
    for item in items:
        if _is_empty(item):
            continue
        option = _choice(attr, item)
        if option is None:
            return _Error("unknown_option")
        chosen.add(option)
    if attr.max_choices is not None and len(chosen) > attr.max_choices:
        return _Error("too_many")
    return [opt.id for opt in attr.options if opt.id in chosen]


def clean_text(text: str) -> str:
    """Collapse whitespace and drop control and invisible format characters."""
    kept = "".join(" " if ch.isspace() else ch for ch in text if ch.isspace() or unicodedata.category(ch)[0] != "C")
    return _SPACES.sub(" ", kept).strip()


def _text(attr: Attribute, value: Any) -> Value | _Error:
    value = _single(value)
    if isinstance(value, _Error):
        return _Error("not_text")
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        return _Error("not_text")
    if isinstance(value, str) and len(value) > MAX_INPUT_CHARS:
        return _Error("too_long")
    text = clean_text(str(value))
    if attr.max_length is not None and len(text) > attr.max_length:
        return _Error("too_long")
    return text


_PARSERS = {"number": _number, "enum": _enum, "multi_enum": _multi_enum, "text": _text}


# --- display and search ----------------------------------------------------------------------------------------------


def format_number(value: int | float | Decimal) -> str:
    """19 -> "19", 19.5 -> "19.5", 1.20 -> "1.2" (no exponent)."""
    number = Decimal(str(value)).normalize()
    return f"{number:f}"


def format_value(attr: Attribute, value: Any, locale: str = "zh") -> str:
    """A cleaned value as display text: "19姆米" / "19 momme", option labels joined with 、 or ", "."""
    if attr.type == "number":
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            return ""
        text = format_number(value)
        if attr.unit is None:
            return text
        unit = attr.unit.label.get(locale)
        glued = unit == "%" or not locale.lower().startswith("en")
        return f"{text}{unit}" if glued else f"{text} {unit}"
    if attr.type == "enum":
        option = attr.option(value) if isinstance(value, str) else None
        return option.label.get(locale) if option else ""
    if attr.type == "multi_enum":
        options = [attr.option(item) for item in value] if isinstance(value, list) else []
        joiner = ", " if locale.lower().startswith("en") else "、"
        return joiner.join(opt.label.get(locale) for opt in options if opt)
    return value if isinstance(value, str) else ""


def normalise_for_search(template: Iterable[Attribute], values: Mapping[str, Any]) -> list[str]:
    """Text pieces to index for a product's attribute values, in zh and en, without duplicates.

    Numbers carry their attribute label and unit in both languages ("姆米 19姆米", "Momme 19 momme"); options give their
    zh and en labels and aliases; text is indexed as typed. Attributes with ``searchable: false`` are skipped. The
    search pipeline (``saas.marketplace.text.index_terms``) tokenises each piece.
    """
    pieces: list[str] = []
    for attr in template:
        if not attr.searchable or attr.id not in values:
            continue
        value = values[attr.id]
        if attr.type == "number":
            zh, en = format_value(attr, value, "zh"), format_value(attr, value, "en")
            if zh:
                pieces += [f"{attr.label.zh} {zh}", f"{attr.label.en} {en}"]
        elif attr.type in ("enum", "multi_enum"):
            ids = [value] if isinstance(value, str) else value if isinstance(value, list) else []
            for option_id in ids:
                option = attr.option(option_id) if isinstance(option_id, str) else None
                if option:
                    pieces += [option.label.zh, option.label.en, *option.aliases]
        elif isinstance(value, str) and value:
            pieces.append(value)
    return list(dict.fromkeys(pieces))
