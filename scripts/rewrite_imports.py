"""Rewrite imports after a module move, from the map in ``scripts/restructure_map.txt``.

Usage: ``python scripts/rewrite_imports.py [--map FILE] [--paths] <files or directories>``

Each map line is ``old.dotted.name new.dotted.name`` (a module, a package or a symbol that moved); ``#`` starts a
comment. The script rewrites, in every ``.py`` file given (directories are walked; ``.venv`` is skipped):

* ``from old.parent import name`` where ``old.parent.name`` is in the map (a moved module or symbol): the name gets
  its own ``from new.parent import newname [as name]`` statement, so call sites keep working unchanged;
* every other dotted occurrence of an old name that is not part of a longer name: ``import old.mod``,
  ``from old.mod import x``, ``from old.mod.sub import x``, and strings such as ``mock.patch("old.mod.fn")`` or
  ``logging.getLogger("old.mod")``. The longest old name wins (``saas.marketplace.search`` before ``saas.marketplace``).

Other files given by name (shell scripts, Makefiles, Markdown) get the dotted rewrite only; with ``--paths`` also
slash paths (``saas/core/db.py`` -> ``saas/core/db.py``, ``saas/marketplace/text/`` -> ``saas/marketplace/text/``).
Run ``ruff check --fix`` and ``ruff format`` afterwards to re-sort the imports. Prints each file it changed.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MAP = ROOT / "scripts" / "restructure_map.txt"
SKIP_DIRS = {".venv", ".git", "__pycache__", "instance", "node_modules"}


def read_map(path: Path) -> dict[str, str]:
    """Return ``{old: new}`` from the map file; a later line for the same old name wins."""
    moves: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        old, new = line.split()
        moves[old] = new
    return moves


def dotted_pattern(moves: dict[str, str]) -> re.Pattern[str]:
    """One alternation of the old names, longest first, not inside a longer dotted name."""
    names = sorted(moves, key=len, reverse=True)
    return re.compile(r"(?<![\w.])(" + "|".join(re.escape(n) for n in names) + r")(?![\w])")


def rename(name: str, moves: dict[str, str], pattern: re.Pattern[str]) -> str:
    """``name`` with its longest moved prefix replaced (``saas.core.db.Database`` -> ``saas.core.db.Database``)."""
    match = pattern.match(name)
    if match is None:
        return name
    return moves[match.group(1)] + name[match.end() :]


def rewrite_from_imports(source: str, moves: dict[str, str], pattern: re.Pattern[str]) -> tuple[str, list[str]]:
    """Split ``from parent import a, b`` where ``parent.a`` moved; return new text with placeholders and their text."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source, []
    lines = source.splitlines(keepends=True)
    edits: list[tuple[int, int, str]] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.ImportFrom) or node.level or not node.module:
            continue
        if not any(f"{node.module}.{alias.name}" in moves for alias in node.names):
            continue
        groups: dict[str, list[str]] = {}
        for alias in node.names:
            full = f"{node.module}.{alias.name}"
            local = alias.asname or alias.name
            if full in moves:
                parent, _, name = moves[full].rpartition(".")
            else:
                parent, name = rename(node.module, moves, pattern), alias.name
            groups.setdefault(parent, []).append(name if name == local else f"{name} as {local}")
        indent = re.match(r"\s*", lines[node.lineno - 1]).group(0)
        text = "".join(f"{indent}from {parent} import {', '.join(names)}\n" for parent, names in groups.items())
        edits.append((node.lineno - 1, node.end_lineno, text))
    placeholders: list[str] = []
    for start, end, text in sorted(edits, reverse=True):
        tail = lines[end - 1]
        comment = "  " + tail[tail.index("#") :].rstrip("\n") if "#" in tail else ""  # keep a trailing noqa
        marker = f"\x00{len(placeholders)}\x00"
        placeholders.append("".join(line + comment + "\n" for line in text.splitlines()))  # each keeps a noqa
        lines[start:end] = [marker]
    return "".join(lines), placeholders


def rewrite_text(text: str, moves: dict[str, str], pattern: re.Pattern[str], paths: bool) -> str:
    """Apply the dotted (and optionally slash-path) rewrite to ``text``."""
    text = pattern.sub(lambda m: moves[m.group(1)], text)
    if paths:
        slash = {old.replace(".", "/"): new.replace(".", "/") for old, new in moves.items()}
        names = sorted(slash, key=len, reverse=True)
        path_re = re.compile(r"(?<![\w/.])(" + "|".join(re.escape(n) for n in names) + r")(?=\.py\b|/)")
        text = path_re.sub(lambda m: slash[m.group(1)], text)
    return text


def rewrite_file(path: Path, moves: dict[str, str], pattern: re.Pattern[str], paths: bool) -> bool:
    """Rewrite one file in place; return whether it changed."""
    original = path.read_text(encoding="utf-8")
    text = original
    for _ in range(5):  # a chained move (forms, then web.forms, then web.pagination) needs a pass per link
        before = text
        placeholders: list[str] = []
        if path.suffix == ".py":
            text, placeholders = rewrite_from_imports(text, moves, pattern)
        text = rewrite_text(text, moves, pattern, paths)
        for index, statement in enumerate(placeholders):
            text = text.replace(f"\x00{index}\x00", statement, 1)
        if text == before:
            break
    if text != original:
        path.write_text(text, encoding="utf-8")
        return True
    return False


def iter_files(targets: list[str]) -> list[Path]:
    """The files named, and every ``.py`` file under the directories named."""
    found: list[Path] = []
    for target in targets:
        path = Path(target)
        if path.is_dir():
            found.extend(p for p in sorted(path.rglob("*.py")) if not SKIP_DIRS.intersection(p.relative_to(path).parts))
        elif path.is_file():
            found.append(path)
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--map", type=Path, default=DEFAULT_MAP)
    parser.add_argument("--paths", action="store_true", help="also rewrite slash paths (docs)")
    parser.add_argument("targets", nargs="+")
    args = parser.parse_args(argv)
    moves = read_map(args.map)
    if not moves:
        return 0
    pattern = dotted_pattern(moves)
    for path in iter_files(args.targets):
        if rewrite_file(path, moves, pattern, args.paths):
            print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
