"""Module and function sizes of saas/ and scoring/ against the targets of issue 11.

Targets: module lines median <= 120, p90 <= 300, none over 500; no function over 80 lines. Prints the figures and
every module or function over its limit; exits 1 when a target is missed. Usage: ``python scripts/check_sizes.py``.
"""

from __future__ import annotations

import ast
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("saas", "scoring")
MEDIAN, P90, MODULE_MAX, FUNCTION_MAX = 120, 300, 500, 80


def modules() -> list[Path]:
    """Every ``.py`` file of the measured packages."""
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def long_functions(path: Path) -> list[tuple[str, int]]:
    """``(name, lines)`` of each function in ``path`` longer than FUNCTION_MAX."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            length = node.end_lineno - node.lineno + 1
            if length > FUNCTION_MAX:
                found.append((f"{path.relative_to(ROOT)}:{node.lineno} {node.name}", length))
    return found


def main() -> int:
    sizes = {p: len(p.read_text(encoding="utf-8").splitlines()) for p in modules()}
    lines = sorted(sizes.values())
    median = statistics.median(lines)
    p90 = lines[min(len(lines) - 1, int(0.9 * len(lines)))]
    over = sorted(((n, p) for p, n in sizes.items() if n > MODULE_MAX), reverse=True)
    functions = sorted((item for p in sizes for item in long_functions(p)), key=lambda x: -x[1])
    print(f"modules: {len(lines)}  median {median:g} (<= {MEDIAN})  p90 {p90} (<= {P90})  max {lines[-1]}")
    for n, p in over:
        print(f"  module over {MODULE_MAX}: {p.relative_to(ROOT)} {n}")
    for name, n in functions:
        print(f"  function over {FUNCTION_MAX}: {name} {n}")
    ok = median <= MEDIAN and p90 <= P90 and not over and not functions
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
