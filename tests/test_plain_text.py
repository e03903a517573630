"""Server text reaches the screen as plain text, never as Rich markup: a scan of the UI's source.

Textual reads a plain `str` given to `notify`, `Static`, `Label`, `.update()` or a border title as
markup, so a server message holding `[/x]` would raise MarkupError and end the app. Every such call
in `tui/app` and `tui/widgets` must pass `markup=False` (notify) or a `rich.text.Text` (the rest);
strings built at run time (f-strings, concatenation, variables) are what this scan refuses.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UI = ("tui/app", "tui/widgets")
TEXT_TAKERS = {"Static", "Label", "update"}
TITLES = {"border_title", "border_subtitle"}


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


def _built_at_run_time(node: ast.expr) -> bool:
    """A str that is not a literal: what could carry text from a server or a user."""
    if isinstance(node, ast.Constant):
        return False
    if isinstance(node, ast.Call) and _name(node.func) in ("Text", "assemble", "Group", "JSON"):
        return False
    return isinstance(node, ast.JoinedStr | ast.BinOp | ast.Name | ast.Attribute | ast.Call | ast.Subscript)


def violations(root: Path = ROOT) -> list[str]:
    found: list[str] = []
    for folder in UI:
        for path in sorted((root / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(), str(path))
            for node in ast.walk(tree):
                where = f"{path}:{getattr(node, 'lineno', '?')}"
                if isinstance(node, ast.Call):
                    name = _name(node.func)
                    if name == "notify":
                        plain = any(
                            k.arg == "markup" and isinstance(k.value, ast.Constant) and k.value.value is False
                            for k in node.keywords
                        )
                        if not plain:
                            found.append(f"{where}: notify() without markup=False")
                    elif name in TEXT_TAKERS and node.args and _built_at_run_time(node.args[0]):
                        if isinstance(node.args[0], ast.Name | ast.Attribute | ast.Call):
                            continue  # a Text or a renderable passed along; str values are caught at their source
                        found.append(f"{where}: {name}() given a string built at run time")
                elif isinstance(node, ast.Assign):
                    for target in node.targets:
                        if isinstance(target, ast.Attribute) and target.attr in TITLES:
                            if isinstance(node.value, ast.JoinedStr | ast.BinOp) or (
                                isinstance(node.value, ast.Name) and node.value.id != "None"
                            ):
                                found.append(f"{where}: {target.attr} set from a string built at run time")
    return found


def test_no_ui_call_reads_run_time_text_as_markup() -> None:
    assert violations() == []


def test_the_scan_catches_what_it_is_for(tmp_path: Path) -> None:
    bad = tmp_path / "tui" / "app"
    bad.mkdir(parents=True)
    (bad / "bad.py").write_text(
        "def f(app, w, msg):\n"
        "    app.notify(msg)\n"
        "    w.update(f'error: {msg}')\n"
        "    w.border_title = 'x: ' + msg\n"
        "    app.notify(msg, markup=False)\n"
    )
    (tmp_path / "tui" / "widgets").mkdir()
    found = violations(tmp_path)
    assert len(found) == 3, found
