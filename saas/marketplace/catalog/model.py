"""The catalogue's model (pure): industries, category trees, typed attribute templates, units and sale units.

Frozen dataclasses and the lookups on them; ``loader.py`` builds them from the YAML files (docs/marketplace.md).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

ATTRIBUTE_TYPES = ("number", "enum", "multi_enum", "text")
MAX_DEPTH = 3  # category levels below the industry
MAX_TEXT_LENGTH = 2000
MAX_LABEL_LENGTH = 80
MULTI_SEPARATORS = "、,，;；/|\n"  # between the choices of a multi_enum typed as one string
SLUG_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*\Z")
INDUSTRY_RE = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*\Z")
ATTRIBUTE_ID_RE = re.compile(r"[a-z][a-z0-9_]{0,39}\Z")
OPTION_ID_RE = re.compile(r"[a-z0-9]+(?:[-_][a-z0-9]+)*\Z")
UNIT_ID_RE = re.compile(r"[a-z][a-z0-9_]*\Z")
GBT4754_RE = re.compile(r"[A-T]\d{2,4}\Z")
_KEY_DROP = re.compile(r"[\s\-_]+")
_TIMES = str.maketrans({"×": "x", "*": "x"})
_MULTI_SPLIT = re.compile("[" + re.escape(MULTI_SEPARATORS) + "]")


def lookup_key(text: str) -> str:
    """The matching key of a label, alias or typed value: NFKC, case-folded, without spaces, '-' and '_', with
    '×' and '*' read as 'x' (so 1220*2440 = 1220×2440 = 1220x2440)."""
    return _KEY_DROP.sub("", unicodedata.normalize("NFKC", text).casefold()).translate(_TIMES)


def split_choices(text: str) -> list[str]:
    """Split a multi_enum string at 、 , ， ; ； / | or new lines, dropping empty pieces."""
    return [piece.strip() for piece in _MULTI_SPLIT.split(text) if piece.strip()]


# --- the frozen model ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Label:
    """A bilingual name; ``zh`` is shown first (zh-CN), ``en`` for English pages and exports."""

    zh: str
    en: str

    def get(self, locale: str = "zh") -> str:
        """The label for a locale such as ``zh_CN`` or ``en``; anything not English gets Chinese."""
        return self.en if locale.lower().startswith("en") else self.zh


@dataclass(frozen=True)
class Unit:
    """A unit of measure; ``factors`` maps every accepted spelling (lookup key) to its factor into this unit."""

    id: str
    label: Label
    factors: Mapping[str, Decimal] = field(repr=False, compare=False)


@dataclass(frozen=True)
class SaleUnit:
    """A unit a product is sold in (米, 码, 公斤, 件 …), with the number of decimals allowed in quantities."""

    id: str
    label: Label
    decimals: int


@dataclass(frozen=True)
class Option:
    """One choice of an enum or multi_enum attribute."""

    id: str
    label: Label
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Attribute:
    """A typed attribute of a category template; bounds are Decimals, options keep their display order."""

    id: str
    type: str  # one of ATTRIBUTE_TYPES
    label: Label
    required: bool = False
    filterable: bool = False
    searchable: bool = True
    unit: Unit | None = None
    min: Decimal | None = None
    max: Decimal | None = None
    step: Decimal | None = None
    buckets: tuple[Decimal, ...] = ()  # facet range boundaries for number attributes
    options: tuple[Option, ...] = ()
    max_choices: int | None = None
    max_length: int | None = None
    defined_in: str = ""  # the industry id or category slug that declares it
    lookup: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)  # option key -> option id

    def option(self, option_id: str) -> Option | None:
        """The option with this id, or None."""
        return next((opt for opt in self.options if opt.id == option_id), None)


@dataclass(frozen=True)
class Category:
    """A node of an industry tree. ``slug`` is the full path, e.g. ``silk/silk-fabric/crepe-de-chine``."""

    slug: str
    industry: str
    label: Label
    parent: str | None
    children: tuple[str, ...]
    depth: int  # 1 for a top-level category
    own_attributes: tuple[Attribute, ...]
    attributes: tuple[Attribute, ...]  # the template: industry attributes, then each ancestor's, then its own
    sale_units: tuple[str, ...]  # effective sale unit ids (the nearest definition wins)
    gbt4754: str | None  # GB/T 4754 industry code (the nearest definition wins)

    @property
    def is_leaf(self) -> bool:
        return not self.children

    @property
    def segment(self) -> str:
        """The last part of the slug."""
        return self.slug.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Industry:
    """One industry file: its labels, industry-wide attributes and top-level categories."""

    id: str  # the file name, e.g. ``warp_knitting``
    slug: str  # the first slug segment, e.g. ``warp-knitting``
    label: Label
    gbt4754: str | None
    attributes: tuple[Attribute, ...]
    sale_units: tuple[str, ...]
    roots: tuple[str, ...]


class UnknownCategory(KeyError):
    """No category has this slug."""


@dataclass(frozen=True, eq=False)
class Catalog:
    """The loaded catalogue; read-only. Categories of each industry are kept in tree (pre-)order."""

    industries: tuple[Industry, ...]
    sale_units: tuple[SaleUnit, ...]
    units: Mapping[str, Unit]
    shared_attributes: Mapping[str, Attribute]
    by_slug: Mapping[str, Category] = field(repr=False)

    def industry(self, industry: str) -> Industry:
        """An industry by id (``warp_knitting``) or slug (``warp-knitting``); KeyError if unknown."""
        for item in self.industries:
            if industry in (item.id, item.slug):
                return item
        raise KeyError(industry)

    def categories(self, industry: str | None = None) -> tuple[Category, ...]:
        """All categories of one industry (or of all) in tree order: each parent before its children."""
        if industry is None:
            return tuple(self.by_slug.values())
        prefix = self.industry(industry).slug + "/"
        return tuple(cat for slug, cat in self.by_slug.items() if slug.startswith(prefix))

    def leaves(self, industry: str | None = None) -> tuple[Category, ...]:
        """The categories without children, where products are listed."""
        return tuple(cat for cat in self.categories(industry) if cat.is_leaf)

    def roots(self, industry: str) -> tuple[Category, ...]:
        return tuple(self.by_slug[slug] for slug in self.industry(industry).roots)

    def children(self, slug: str) -> tuple[Category, ...]:
        return tuple(self.by_slug[child] for child in self.category(slug).children)

    def get(self, slug: str) -> Category | None:
        """The category with this slug (a trailing ``/`` is ignored), or None."""
        return self.by_slug.get(slug.strip("/")) if isinstance(slug, str) else None

    def category(self, slug: str) -> Category:
        """The category with this slug; raises UnknownCategory."""
        found = self.get(slug)
        if found is None:
            raise UnknownCategory(slug)
        return found

    def path(self, slug: str) -> tuple[Category, ...]:
        """The breadcrumb from the top-level category down to this one (the industry itself is ``industry()``)."""
        chain = [self.category(slug)]
        while chain[-1].parent is not None:
            chain.append(self.by_slug[chain[-1].parent])
        return tuple(reversed(chain))

    def attributes_for(self, slug: str) -> tuple[Attribute, ...]:
        """The full attribute template of a category, inherited from the industry and every ancestor."""
        return self.category(slug).attributes

    def filterable_attributes(self, slug: str) -> tuple[Attribute, ...]:
        """The attributes offered as facets on this category's pages."""
        return tuple(attr for attr in self.attributes_for(slug) if attr.filterable)

    def attribute(self, slug: str, attribute_id: str) -> Attribute | None:
        return next((attr for attr in self.attributes_for(slug) if attr.id == attribute_id), None)

    def sale_unit(self, unit_id: str) -> SaleUnit:
        for unit in self.sale_units:
            if unit.id == unit_id:
                return unit
        raise KeyError(unit_id)

    def sale_units_for(self, slug: str) -> tuple[SaleUnit, ...]:
        """The sale units a product in this category may use, the default first."""
        return tuple(self.sale_unit(unit_id) for unit_id in self.category(slug).sale_units)

    def __iter__(self) -> Iterator[Category]:
        return iter(self.by_slug.values())

    def __len__(self) -> int:
        return len(self.by_slug)


# --- errors ----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    file: str
    path: str  # e.g. ``categories[silk-fabric].attributes[momme].max``
    reason: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.path or '(file)'}: {self.reason}"


class CatalogError(ValueError):
    """The catalogue files are invalid; ``problems`` lists every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = tuple(problems)
        shown = "\n".join(f"  {problem}" for problem in self.problems[:50])
        more = f"\n  … and {len(self.problems) - 50} more" if len(self.problems) > 50 else ""
        super().__init__(f"invalid marketplace catalogue ({len(self.problems)} problem(s)):\n{shown}{more}")


# --- YAML reading ----------------------------------------------------------------------------------------------------
