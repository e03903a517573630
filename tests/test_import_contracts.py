"""The architecture's import contracts (`[tool.importlinter]` in pyproject.toml), checked statically
over every module of `tui`, imports inside functions included: the run-time checks of
test_import_hygiene see only the modules a package's `__init__` loads, and a forbidden import in
`tui/journal/export.py` or `tui/server/testing.py` passed them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_every_import_contract_is_kept() -> None:
    lint_imports = Path(sys.executable).parent / "lint-imports"
    out = subprocess.run(
        [str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-2000:]
    assert "0 broken" in out.stdout and " kept" in out.stdout, out.stdout[-2000:]
