"""The export dialog's audio choice: the option highlighted is the one exported, whatever key
exports (review 22: ↓ moved only the highlight, and Tab then Enter on the path kept the audio)."""

from __future__ import annotations

import base64
import json
import os
from functools import partial
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, RadioButton, Static

from tests.app_helpers import wait_for
from tests.journal_helpers import received, sent
from tui.app import RtApp
from tui.config import Settings
from tui.widgets.export_dialog import ExportDialog
from tui.widgets.key_footer import KeyFooter


def audio_app() -> RtApp:
    """An app that does not connect: the tests put a session and one audio append in its log."""
    return RtApp(Settings(playback=False, capture=False, reconnect=False), connect=False)


async def export_with(pilot: Pilot[None], app: RtApp, out: Path, keys: list[str], *, burst: bool) -> bool:
    """Open the dialog, press `keys` (one burst, or one at a time with the app settled between),
    then Tab to the path and Enter there; whether the export kept the audio."""
    await pilot.press("e")
    await wait_for(pilot, lambda: isinstance(app.screen, ExportDialog), 5, "the dialog")
    app.screen.query_one("#path").value = str(out)  # type: ignore[attr-defined]
    if burst:
        await pilot.press(*keys, "tab", "enter")
    else:
        for key in [*keys, "tab", "enter"]:
            await pilot.press(key)
            await pilot.pause()
    await wait_for(pilot, lambda: out.exists() and out.stat().st_size > 0, 5, "the export")
    await wait_for(pilot, lambda: not isinstance(app.screen, ExportDialog), 5, "the dialog to close")
    await wait_for(pilot, lambda: out.read_text().count("\n") == 2, 5, "both lines")
    records: list[dict[str, object]] = [json.loads(line) for line in out.read_text().splitlines()]
    [append] = [r for r in records if r["type"] == "input_audio_buffer.append"]
    return append.get("elided") != "audio"


async def export_dialog_over_audio(pilot: Pilot[None], app: RtApp) -> None:
    """A session update and one sent append of audio journaled, then `e`: the export dialog open."""
    audio = base64.b64encode(bytes(4800)).decode()
    app.ingest([received("session.updated"), sent("input_audio_buffer.append", audio=audio)])
    await pilot.pause()
    await pilot.press("e")
    await wait_for(pilot, lambda: isinstance(app.screen, ExportDialog), 5, "the dialog")


async def test_an_arrow_ticks_the_option_it_highlights_and_tab_enter_exports_with_it(tmp_path: Path) -> None:
    app = audio_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await export_dialog_over_audio(pilot, app)
        await pilot.press("down")
        await pilot.pause()
        keep, tag = app.screen.query_one("#keep", RadioButton), app.screen.query_one("#tag", RadioButton)
        # What is highlighted (Textual's -selected) is what is ticked.
        assert tag.value and not keep.value and tag.has_class("-selected") and not keep.has_class("-selected")
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, ExportDialog), 5, "the dialog to close")

        cases = [
            ("down", ["down"], False),
            ("down-down", ["down", "down"], True),  # wraps back to "keep audio"
            ("up", ["up"], False),
            ("none", [], True),
        ]
        for name, keys, kept in cases:
            for burst in (False, True):
                out = tmp_path / f"{name}-{burst}.jsonl"
                assert await export_with(pilot, app, out, keys, burst=burst) is kept, (name, burst)


async def test_a_click_on_an_option_is_what_tab_enter_exports(tmp_path: Path) -> None:
    app = audio_app()
    audio = base64.b64encode(bytes(4800)).decode()
    out = tmp_path / "clicked.jsonl"
    async with app.run_test(size=(160, 48)) as pilot:
        app.ingest([received("session.updated"), sent("input_audio_buffer.append", audio=audio)])
        await pilot.pause()
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, ExportDialog), 5, "the dialog")
        app.screen.query_one("#path").value = str(out)  # type: ignore[attr-defined]
        await pilot.click("#tag")
        await pilot.pause()
        await pilot.press("down")  # from the clicked option: back to "keep audio"
        await pilot.pause()
        await pilot.press("down")  # and on to "replace audio by a size tag"
        await pilot.pause()
        await pilot.press("tab", "enter")
        await wait_for(pilot, lambda: out.exists() and out.read_text().count("\n") == 2, 5, "the export")
        records = [json.loads(line) for line in out.read_text().splitlines()]
        [append] = [r for r in records if r["type"] == "input_audio_buffer.append"]
        assert append.get("elided") == "audio"


async def test_the_chosen_option_shows_by_its_glyph_not_its_colour_alone() -> None:
    """Both options drew the same ● in two colours: in grey (a monochrome terminal, a screenshot,
    a colour-blind user) which one exports the audio could not be told."""
    app = audio_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await export_dialog_over_audio(pilot, app)

        def drawn() -> tuple[str, str]:
            keep, tag = app.screen.query_one("#keep", RadioButton), app.screen.query_one("#tag", RadioButton)
            return str(keep.render()), str(tag.render())

        keep, tag = drawn()
        assert "●" in keep and "○" not in keep and "○" in tag and "●" not in tag, (keep, tag)
        await pilot.press("down")
        await pilot.pause()
        keep, tag = drawn()
        assert "○" in keep and "●" not in keep and "●" in tag and "○" not in tag, (keep, tag)


async def test_the_dialog_says_which_frames_it_counts_after_a_clear_and_under_a_filter() -> None:
    """After ctrl+l the dialog said "60 frames (every frame)", read as the whole session (406 frames):
    it says the frames are those since the clear, and with a filter, both."""
    from tests.app_helpers import screen_text

    app = audio_app()
    async with app.run_test(size=(160, 48)) as pilot:
        app.ingest([received("response.created", response={"id": f"resp_{n}"}) for n in range(5)])
        await pilot.pause()

        async def dialog_line() -> str:
            await pilot.press("e")
            await wait_for(pilot, lambda: isinstance(app.screen, ExportDialog), 5, "the dialog")
            await pilot.pause()
            line = next(line for line in screen_text(app).splitlines() if "Export " in line and "JSONL" in line)
            await pilot.press("escape")
            await wait_for(pilot, lambda: not isinstance(app.screen, ExportDialog), 5, "the dialog to close")
            return line

        assert "Export 5 frames (every frame) as JSONL" in await dialog_line()
        await pilot.press("ctrl+l")
        app.ingest([received("response.created", response={"id": f"resp_late_{n}"}) for n in range(3)])
        await wait_for(pilot, lambda: app.log_view.shown == 3, 5, "the frames after the clear")
        assert "Export 3 frames (since clear) as JSONL" in await dialog_line()
        assert app.apply_filter("resp_late_1")
        await wait_for(pilot, lambda: app.log_view.shown == 1, 5, "the filter")
        assert "Export 1 frame (filter: resp_late_1, since clear) as JSONL" in await dialog_line()


async def test_a_name_alone_is_written_in_the_folder_the_dialog_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The path's input shows its end, so its start was unseen; a name typed alone was written in
    whatever folder rt-tui was started from. The dialog says the folder, and a name alone goes there
    (with `.jsonl` when it has no suffix)."""
    from tests.app_helpers import screen_text

    data, elsewhere = tmp_path / "data", tmp_path / "started-here"
    elsewhere.mkdir()
    monkeypatch.setenv("RT_TUI_DATA_DIR", str(data))
    monkeypatch.chdir(elsewhere)
    app = audio_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await export_dialog_over_audio(pilot, app)
        default = Path(app.screen.default_path)  # type: ignore[attr-defined]
        assert app.screen.query_one("#path").value == default.name  # type: ignore[attr-defined]
        folder = str(app.screen.query_one("#folder", Static).render())
        assert folder == f"in {default.parent}/ (a name alone goes there too)", folder
        assert str(default.parent)[-20:] in screen_text(app).replace("\n", "")  # shown, if wrapped
        app.screen.query_one("#path").value = "mine"  # type: ignore[attr-defined]
        await pilot.press("tab", "enter")
        out = default.parent / "mine.jsonl"
        await wait_for(pilot, lambda: out.exists() and out.read_text().count("\n") == 2, 5, "the export")
    assert not (elsewhere / "mine.jsonl").exists()


@pytest.mark.parametrize("burst", [True, False])
async def test_a_name_typed_as_the_dialog_opens_replaces_the_proposed_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, burst: bool
) -> None:
    """The dialog opens on the audio options, which take no characters: a name typed at once was
    lost, and Enter exported under the proposed name. The first character moves to the path and
    starts a new name there (the folder shown stays), the rest follow it, also in one burst of keys."""
    monkeypatch.setenv("RT_TUI_DATA_DIR", str(tmp_path / "data"))
    app = audio_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await export_dialog_over_audio(pilot, app)
        default = Path(app.screen.default_path)  # type: ignore[attr-defined]
        keys = [*"my-take", "enter"]
        if burst:
            await pilot.press(*keys)
        else:
            for key in keys:
                await pilot.press(key)
                await pilot.pause()
        out = default.parent / "my-take.jsonl"
        await wait_for(pilot, lambda: out.exists() and out.read_text().count("\n") == 2, 5, "the export")
        assert not default.exists()


async def test_a_path_in_no_folder_keeps_the_dialog_with_what_was_typed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A path in a folder that does not exist closed the dialog: the typed path was lost and a
    notice was all that said why. The dialog comes back with the path, the audio choice, and why."""
    from tui.widgets.export_dialog import AudioChoice

    monkeypatch.setenv("RT_TUI_DATA_DIR", str(tmp_path / "data"))
    app = audio_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await export_dialog_over_audio(pilot, app)
        first = app.screen
        await pilot.press("down")  # replace audio by a size tag
        wrong = str(tmp_path / "no-such-folder" / "mine.jsonl")
        app.screen.query_one("#path", Input).value = wrong
        await pilot.press("tab", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ExportDialog) and app.screen is not first, 5, "again")
        dialog = app.screen
        assert dialog.query_one("#path", Input).value == wrong
        assert not dialog.query_one(AudioChoice).keep_audio
        said = str(dialog.query_one("#error", Static).render())
        assert said == f"{tmp_path / 'no-such-folder'} is not a folder: nothing was written", said
        assert dialog.focused is dialog.query_one("#path", Input)  # the path to mend, not the options
        await pilot.pause()
        footer = str(dialog.query_one(KeyFooter).render())
        assert "⏎ Export" in footer and "Cancel" in footer, footer  # it showed Cancel alone
        right = tmp_path / "mine.jsonl"
        dialog.query_one("#path", Input).value = str(right)
        await pilot.press("enter")
        await wait_for(pilot, lambda: right.exists() and right.read_text().count("\n") == 2, 5, "the export")
        records = [json.loads(line) for line in right.read_text().splitlines()]
        [append] = [r for r in records if r["type"] == "input_audio_buffer.append"]
        assert append.get("elided") == "audio"  # the choice kept: its audio replaced by a size tag


async def test_a_folder_typed_as_the_path_gets_the_proposed_name_inside_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`outdir/` (an existing folder) wrote `outdir.jsonl` beside it, and `/dev/full` a new file in
    /dev; the live capture's own name was refused as `[Errno 17] File exists`, the dialog gone."""
    monkeypatch.setenv("RT_TUI_DATA_DIR", str(tmp_path / "data"))
    app = audio_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await export_dialog_over_audio(pilot, app)
        for folder, typed in ((tmp_path / "a", f"{tmp_path / 'a'}{os.sep}"), (tmp_path / "b", str(tmp_path / "b"))):
            folder.mkdir()
            if not isinstance(app.screen, ExportDialog):
                await pilot.press("e")
                await wait_for(pilot, lambda: isinstance(app.screen, ExportDialog), 5, "the dialog")
            proposed = Path(app.screen.query_one("#path", Input).value).name
            app.screen.query_one("#path", Input).value = typed  # with its slash or without: a folder either way
            await pilot.press("tab", "enter")
            out = folder / proposed
            await wait_for(pilot, partial(lines_in, out, 2), 5, "the export in it")
            assert not folder.with_suffix(".jsonl").exists()
            await wait_for(pilot, lambda: not isinstance(app.screen, ExportDialog), 5, "the dialog to close")
        # A file that is there already: the dialog comes back and says so; nothing is overwritten.
        taken = tmp_path / "b" / proposed
        before = taken.read_bytes()
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, ExportDialog), 5, "the dialog")
        app.screen.query_one("#path", Input).value = str(taken)
        await pilot.press("tab", "enter")
        await wait_for(pilot, lambda: bool(app.screen.query("#error")), 5, "the dialog again")
        said = str(app.screen.query_one("#error", Static).render())
        assert said == f"{proposed} is already a file in {tmp_path / 'b'}: choose another name (nothing is overwritten)"
        assert taken.read_bytes() == before


def lines_in(path: Path, count: int) -> bool:
    return path.exists() and path.read_text().count("\n") == count


def test_an_export_that_fails_while_writing_leaves_no_half_file(tmp_path: Path) -> None:
    """A full disk mid-export left a file cut short that read as a whole export."""
    from tests.test_transcript_round27 import file_size_limit
    from tui.journal import Journal
    from tui.journal.export import export_jsonl

    journal = Journal()
    audio = base64.b64encode(bytes(48_000)).decode()
    for _ in range(20):
        journal.append(sent("input_audio_buffer.append", audio=audio))
    path = tmp_path / "cut.jsonl"
    with file_size_limit(100_000), pytest.raises(OSError):
        export_jsonl(journal, range(len(journal)), path)
    assert not path.exists()
