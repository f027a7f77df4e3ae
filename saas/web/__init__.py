"""Shared web helpers: the base form and number fields, pagination, charts."""
