"""The architecture's import rules, checked at run time in fresh interpreters."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest


def modules_after(code: str) -> set[str]:
    """The top-level and tui.* modules loaded after running `code` in a fresh interpreter."""
    probe = code + "\nimport sys, json\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


@pytest.mark.parametrize(
    "package",
    ["tui.protocol", "tui.bus", "tui.conversation", "tui.session", "tui.server", "tui.audio", "tui.config", "tui.lint"],
)
def test_core_packages_import_without_textual(package: str) -> None:
    loaded = modules_after(f"import {package}")
    assert not {m for m in loaded if m == "textual" or m.startswith("textual.")}
    assert "tui.app" not in loaded and "tui.widgets" not in loaded


@pytest.mark.parametrize("package", ["tui.protocol", "tui.bus", "tui.lint"])
def test_leaves_use_the_standard_library_only(package: str) -> None:
    loaded = modules_after(f"import {package}")
    third_party = (
        {m.split(".")[0] for m in loaded} - set(sys.stdlib_module_names) - {"tui", "__main__", "_distutils_hack"}
    )
    assert not {m for m in third_party if not m.startswith("_")}


def test_lint_builds_on_protocol_and_journal_only() -> None:
    loaded = {m for m in modules_after("import tui.lint") if m.startswith("tui.")}
    assert {m.split(".")[1] for m in loaded} <= {"protocol", "journal", "lint"}


def test_server_is_an_independent_peer() -> None:
    loaded = modules_after("import tui.server")
    assert not loaded & {"tui.session", "tui.bus", "tui.conversation", "tui.audio"}


def test_audio_does_not_load_pyaudio_until_a_device_is_opened() -> None:
    assert "pyaudio" not in modules_after("import tui.audio")


def test_send_help_does_not_load_textual() -> None:
    loaded = modules_after("from tui.cli import run\ntry:\n    run(['send', '--help'])\nexcept SystemExit:\n    pass")
    assert not {m for m in loaded if m == "textual" or m.startswith("textual.")}


def test_send_command_module_does_not_load_textual() -> None:
    loaded = modules_after("import tui.send, tui.serve_cmd")
    assert not {m for m in loaded if m == "textual" or m.startswith("textual.")}


def test_python_dash_m_tui_shows_help() -> None:
    out = subprocess.run([sys.executable, "-m", "tui", "--help"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0
    assert "send" in out.stdout and "serve" in out.stdout


@pytest.mark.parametrize("package", ["tui.journal", "tui.model", "tui.replay", "tui.proxy", "tui.replay_cmd"])
def test_the_debugger_cores_import_without_textual(package: str) -> None:
    loaded = modules_after(f"import {package}")
    assert not {m for m in loaded if m == "textual" or m.startswith("textual.")}
    assert "tui.app" not in loaded and "tui.widgets" not in loaded


def test_the_journal_builds_on_protocol_and_the_standard_library_only() -> None:
    loaded = modules_after("import tui.journal")
    assert {m.split(".")[1] for m in loaded if m.startswith("tui.")} <= {"protocol", "journal"}
    third_party = {m.split(".")[0] for m in loaded} - set(sys.stdlib_module_names) - {"tui", "__main__"}
    assert not {m for m in third_party if not m.startswith("_")}


def test_the_simulator_never_imports_the_journal() -> None:
    assert "tui.journal" not in modules_after("import tui.server")


def test_widgets_render_projections_and_never_import_a_source() -> None:
    loaded = modules_after("import tui.widgets, tui.widgets.findings, tui.widgets.export_dialog")
    sources = {"tui.session", "tui.proxy", "tui.replay", "tui.server", "tui.bus", "tui.audio", "tui.app"}
    assert not loaded & sources


@pytest.mark.parametrize("command", ["replay", "lint", "proxy", "devices"])
def test_the_new_commands_help_loads_no_textual(command: str) -> None:
    loaded = modules_after(
        f"from tui.cli import run\ntry:\n    run([{command!r}, '--help'])\nexcept SystemExit:\n    pass"
    )
    assert not {m for m in loaded if m == "textual" or m.startswith("textual.")}


@pytest.mark.parametrize("command", ["lint", "replay"])
def test_headless_replay_and_lint_load_no_textual(command: str) -> None:
    har = str(Path(__file__).parent / "golden" / "replay" / "devtools.har")
    code = (
        "import io, contextlib\nfrom tui.cli import run\n"
        f"with contextlib.redirect_stdout(io.StringIO()):\n    run([{command!r}, {har!r}, '--json'])"
    )
    loaded = modules_after(code)
    assert "tui.lint" in loaded or command == "replay"  # it ran for real
    assert not {m for m in loaded if m == "textual" or m.startswith("textual.")}
