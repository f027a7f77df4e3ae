"""scoring/ stays pure: no framework imports, no I/O outside the loader, no clock or randomness, documented."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "scoring"
MODULES = sorted(PACKAGE.rglob("*.py"))  # subpackages too (scoring/programme/)
FORBIDDEN = {
    "flask",
    "sqlalchemy",
    "wtforms",
    "stripe",
    "weasyprint",
    "saas",
    "werkzeug",
    "jinja2",
    "redis",
    "rq",
    "psycopg",
    "psycopg2",
    "flask_sqlalchemy",
    "flask_wtf",
    "alembic",
    "requests",
    "urllib",
    "socket",
    "random",
    "time",
    "os",
    "subprocess",
    "sqlite3",
}
IO_CALLS = {"open", "read_text", "read_bytes", "write_text", "write_bytes", "now", "today", "utcnow"}
LOADER = "rubric.py"


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def test_package_has_modules():
    assert {"__init__.py", "model.py", "rubric.py", "maturity.py", "advice.py", "priority.py", "errors.py"} <= {
        p.name for p in MODULES
    }


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_no_forbidden_imports(path):
    for node in ast.walk(_tree(path)):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        for name in names:
            assert name.split(".")[0] not in FORBIDDEN, f"{path.name} imports {name}"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_no_io_or_clock_outside_the_loader(path):
    if path.name == LOADER:
        return
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Call):
            func = node.func
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
            assert name not in IO_CALLS, f"{path.name}:{node.lineno} calls {name}()"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.relative_to(PACKAGE).as_posix())
def test_docstrings_and_size(path):
    tree = _tree(path)
    assert ast.get_docstring(tree), f"{path.name} has no module docstring"
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 300, f"{path.name} is over 300 lines"
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.ClassDef) and not node.name.startswith("_"):
            assert ast.get_docstring(node), f"{path.name}:{node.lineno} {node.name} has no docstring"


def test_no_coefficients_in_engine_code():
    """Numbers in the engine are structural (0, 1, 100 for percent, index arithmetic) or the float tolerance."""
    allowed = {0, 1, 100, 1e-9, 1e-12, 1e-6}
    for path in MODULES:
        if path.name.startswith("checks") or path.name in ("rubric.py", "codec.py"):  # validators and the type codec
            continue
        if path.relative_to(PACKAGE).as_posix() == "programme/defaults.py":  # the programme's parameter data file
            continue
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.Constant) and type(node.value) in (int, float):
                assert node.value in allowed, f"{path.name}:{node.lineno} hard-codes {node.value}"
