"""The pure packages load no web framework or ORM: importing every module of each, in a fresh interpreter, leaves
Flask, Flask-Babel, Jinja2, Werkzeug and SQLAlchemy out of ``sys.modules`` (issue 11)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = ("flask", "flask_babel", "flask_wtf", "flask_limiter", "jinja2", "werkzeug", "sqlalchemy", "wtforms")
PURE = (
    "scoring",
    "saas.marketplace.catalog",
    "saas.marketplace.text",
    "saas.marketplace.images",
)

PROBE = """
import importlib, json, pkgutil, sys
name = sys.argv[1]
package = importlib.import_module(name)
modules = [name]
for info in pkgutil.walk_packages(getattr(package, "__path__", []), name + "."):
    importlib.import_module(info.name)
    modules.append(info.name)
loaded = sorted({m.split(".")[0] for m in sys.modules} & set(json.loads(sys.argv[2])))
print(json.dumps({"modules": modules, "loaded": loaded}))
"""


def probe(name: str) -> dict[str, list[str]]:
    """Import ``name`` and all its submodules in a new interpreter; return them and the forbidden roots loaded."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, name, json.dumps(FORBIDDEN)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )
    return json.loads(done.stdout)


@pytest.mark.parametrize("package", PURE)
def test_a_pure_package_imports_no_web_framework_or_orm(package: str) -> None:
    result = probe(package)
    assert result["modules"][0] == package
    assert result["loaded"] == []


def test_the_probe_sees_a_web_import() -> None:
    """The check itself can fail: the app factory's module loads Flask."""
    assert "flask" in probe("saas.app")["loaded"]
