"""The marketplace catalogue (pure): industry category trees with typed attribute templates, loaded from YAML.

One YAML file per industry in this directory plus ``_shared.yaml`` (units, sale units, shared attributes, industry
order): ``model.py`` holds the dataclasses, ``loader.py`` reads and checks the files, ``attributes.py`` validates a
product's attribute values and builds their search text. This module is the package's public API.
"""

from saas.marketplace.catalog.loader import CATALOG_DIR, SHARED_FILE, default_catalog, load_catalog
from saas.marketplace.catalog.model import (
    ATTRIBUTE_TYPES,
    MULTI_SEPARATORS,
    SLUG_RE,
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
    UnknownCategory,
    lookup_key,
    split_choices,
)

__all__ = [
    "ATTRIBUTE_TYPES",
    "CATALOG_DIR",
    "MULTI_SEPARATORS",
    "SHARED_FILE",
    "SLUG_RE",
    "Attribute",
    "Catalog",
    "CatalogError",
    "Category",
    "Industry",
    "Label",
    "Option",
    "Problem",
    "SaleUnit",
    "Unit",
    "UnknownCategory",
    "default_catalog",
    "load_catalog",
    "lookup_key",
    "split_choices",
]
