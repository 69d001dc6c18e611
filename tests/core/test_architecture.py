"""The house rules the code must keep: core imports no front end (import-linter says the same in CI)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FRONT_ENDS = ("seqlm_tui.tui", "seqlm_tui.cli", "textual", "rich", "plotext", "textual_plotext", "textual_serve")


def test_importing_all_of_core_loads_no_front_end():
    code = """
import json, pkgutil, importlib, sys
import seqlm_tui.core as core
for m in pkgutil.walk_packages(core.__path__, "seqlm_tui.core."):
    importlib.import_module(m.name)
print(json.dumps(sorted(sys.modules)))
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    modules = json.loads(out)
    assert "seqlm_tui.core.train" in modules and "seqlm_tui.core.checkpoint" in modules  # it did import core
    loaded = [m for m in modules if m.startswith(FRONT_ENDS)]
    assert loaded == [], loaded


def test_no_python_file_is_much_over_400_lines():
    """The guide's "no Python file over ~400 lines"."""
    long = {str(p.relative_to(ROOT)): n for top in ("core", "tui", "cli") for p in (ROOT / top).rglob("*.py")
            if (n := len(p.read_text().splitlines())) > 450}
    assert long == {}


def test_every_package_folder_is_installed():
    """pyproject lists the packages one by one (the folders map into seqlm_tui); a new folder that is
    missing there would be absent from the wheel."""
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    folders = {"seqlm_tui." + ".".join(p.parent.relative_to(ROOT).parts)
               for top in ("core", "tui", "cli", "lessons") for p in (ROOT / top).rglob("__init__.py")}
    assert listed == folders


def test_nothing_imports_the_repository_folders_by_their_bare_names():
    """Run from the checkout, `core`, `cli` and `tui` would import as top-level names too (a second copy
    of every module); only seqlm_tui.* is installed."""
    import re

    bare = re.compile(r"^\s*(from|import) (core|cli|tui)\b", re.M)
    found = [str(p.relative_to(ROOT)) for top in ("core", "tui", "cli", "tests") for p in (ROOT / top).rglob("*.py")
             if bare.search(p.read_text())]
    assert found == []
