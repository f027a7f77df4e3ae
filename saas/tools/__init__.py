"""Operator tools: the flask CLI commands, demo data, the migrations runner, backup and restore."""
