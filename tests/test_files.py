"""tui.app.files: the names of what the app saves (frames, transcripts), on a real folder."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from tui.app import files
from tui.app.files import safe_name, split_extension, write_private

STAMP = "230625-442"


@pytest.fixture
def fixed_stamp(monkeypatch: pytest.MonkeyPatch) -> None:
    """The clash suffix without the clock: every save in a test happens "in the same second"."""
    monkeypatch.setattr(files, "_clash_stamp", lambda: STAMP)


def test_a_clash_suffix_goes_before_the_extension_not_into_a_dotted_frame_type(
    tmp_path: Path, fixed_stamp: None
) -> None:
    """The detail view's `s` names a file after the frame type, which is full of dots."""
    name = "frame-17-response.output_audio_transcript.delta.json"
    first = write_private(tmp_path, name, "one")
    second = write_private(tmp_path, name, "two")
    assert first.name == name
    assert second.name == f"frame-17-response.output_audio_transcript.delta-{STAMP}.json"
    assert (first.read_text(), second.read_text()) == ("one", "two")
    assert stat.S_IMODE(second.stat().st_mode) == files.PRIVATE_FILE


def test_a_third_save_in_the_same_second_gets_a_count_instead_of_failing(tmp_path: Path, fixed_stamp: None) -> None:
    paths = [write_private(tmp_path, "frame-3-error.json", str(n)) for n in range(4)]
    assert [p.name for p in paths] == [
        "frame-3-error.json",
        f"frame-3-error-{STAMP}.json",
        f"frame-3-error-{STAMP}-2.json",
        f"frame-3-error-{STAMP}-3.json",
    ]
    assert [p.read_text() for p in paths] == ["0", "1", "2", "3"]


@pytest.mark.parametrize(
    ("name", "clash"),
    [
        ("transcript-101010.md", f"transcript-101010-{STAMP}.md"),  # the transcript exports
        ("transcript-101010.json", f"transcript-101010-{STAMP}.json"),
        ("frame-9-session.updated-run-4.json", f"frame-9-session.updated-run-4-{STAMP}.json"),
        ("notes", f"notes-{STAMP}"),  # no extension: the suffix goes at the end
    ],
)
def test_every_callers_name_clashes_sensibly(tmp_path: Path, fixed_stamp: None, name: str, clash: str) -> None:
    assert write_private(tmp_path, name, "a").name == name
    assert write_private(tmp_path, name, "b").name == clash


def test_a_long_frame_type_keeps_its_extension_and_odd_names_stay_in_the_folder(tmp_path: Path) -> None:
    long = safe_name("frame-1-vendor." + "x" * 300 + ".json")
    assert len(long) == files.MAX_NAME and long.endswith("x.json")
    assert safe_name("../etc/passwd") == "_etc_passwd"
    for odd in ("..", ".", "", ".hidden.json"):
        path = write_private(tmp_path, odd, "x")
        assert path.parent == tmp_path and path.is_file() and not path.name.startswith("."), path


def test_split_extension_takes_the_last_dot() -> None:
    assert split_extension("frame-17-response.output_audio_transcript.delta.json") == (
        "frame-17-response.output_audio_transcript.delta",
        ".json",
    )
    assert split_extension("export-20261130-101010.jsonl") == ("export-20261130-101010", ".jsonl")
    assert split_extension("notes") == ("notes", "")
