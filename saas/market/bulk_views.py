"""Bulk catalogue import and export for suppliers (routes on the products blueprint)."""

from __future__ import annotations

from saas.market.supplier_views import bp  # noqa: F401 - the routes below attach to the supplier blueprint
