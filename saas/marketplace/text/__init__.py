"""Marketplace search: the Chinese-aware text pipeline shared by every backend (docs/search.md)."""

from saas.marketplace.text.pipeline import (
    FTS5_TOKENIZE,
    PREFIX,
    QueryPlan,
    highlight,
    index_terms,
    is_cjk,
    matches,
    normalise,
    query_plan,
    split_prefix,
    to_fts5,
    to_tsquery,
)

__all__ = [
    "FTS5_TOKENIZE",
    "PREFIX",
    "QueryPlan",
    "highlight",
    "index_terms",
    "is_cjk",
    "matches",
    "normalise",
    "query_plan",
    "split_prefix",
    "to_fts5",
    "to_tsquery",
]
