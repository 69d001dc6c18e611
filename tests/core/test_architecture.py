"""The house rules the code must keep: core imports no front end (import-linter says the same in CI)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FRONT_ENDS = ("tui", "cli", "textual", "rich", "plotext", "textual_plotext", "textual_serve")


def test_importing_all_of_core_loads_no_front_end():
    code = """
import json, pkgutil, importlib, sys
import core
for m in pkgutil.walk_packages(core.__path__, "core."):
    importlib.import_module(m.name)
print(json.dumps(sorted(sys.modules)))
"""
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    modules = json.loads(out)
    assert "core.train" in modules and "core.checkpoint" in modules  # it did import core
    loaded = [m for m in modules if m.split(".")[0] in FRONT_ENDS]
    assert loaded == [], loaded


def test_no_python_file_is_much_over_400_lines():
    """The guide's "no Python file over ~400 lines"."""
    long = {str(p.relative_to(ROOT)): n for top in ("core", "tui", "cli") for p in (ROOT / top).rglob("*.py")
            if (n := len(p.read_text().splitlines())) > 450}
    assert long == {}
