"""`transcription-not-requested`: a log of the client's side alone, whose client appended user audio
without asking for input transcription (the question rt-tui was born from, with the evidence most
people have: their own client's log of what it sent)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.journal_helpers import connecting, received, sent
from tests.lint_helpers import b64, beta_session, ga_created, lint, of_rule, rules, speech
from tui.lint import Severity
from tui.protocol import Envelope, local_envelope

RULE = "transcription-not-requested"
TRANSCRIBE = "gpt-4o-transcribe"


def append(ms: int) -> Envelope:
    return sent("input_audio_buffer.append", audio=b64(speech(ms)))


def commit() -> Envelope:
    return sent("input_audio_buffer.commit")


def update(**session: object) -> Envelope:
    return sent("session.update", session={"type": "realtime", **session})


def transcription(value: object) -> dict[str, object]:
    return {"input": {"transcription": value}}


def test_a_client_that_never_asks_is_warned_with_its_frames_and_the_fix() -> None:
    setup, first, last, turn = update(instructions="be brief"), append(500), append(500), commit()
    findings, _ = lint(setup, first, last, turn, sent("response.create"))
    assert rules(findings) == [RULE]
    found = of_rule(findings, "transcription-not-requested")[0]
    assert found.severity is Severity.WARNING
    assert f"appended 1.00 s of user audio (input_audio_buffer.append #{first.seq} to" in found.message
    assert f"#{last.seq}) and committed it (input_audio_buffer.commit #{turn.seq})" in found.message
    assert f"(session.update #{setup.seq} leaves it out)" in found.message
    assert "this is what the client asked, not what the server applied" in found.message
    assert 'session.audio.input.transcription {"model": "gpt-4o-transcribe"}' in found.fix
    assert "Log the server's events too" in found.fix


def test_turned_on_once_stays_on_through_updates_that_leave_it_out() -> None:
    on = update(audio=transcription({"model": TRANSCRIBE}))
    findings, _ = lint(on, update(instructions="later"), append(300), commit())
    assert of_rule(findings, RULE) == []


def test_turned_off_on_purpose_is_said_as_information() -> None:
    off = update(audio=transcription(None))
    findings, _ = lint(update(audio=transcription({"model": TRANSCRIBE})), off, append(300), commit())
    found = of_rule(findings, RULE)
    assert [f.severity for f in found] == [Severity.INFO]
    assert f"session.update #{off.seq} set input transcription to null (off)" in found[0].message
    assert len(found[0].frames) == 3  # the commit, the first append, and the update that turned it off
    assert (
        found[0].fix.startswith("If you want the text of what was said: turn it on") and "ignore this" in found[0].fix
    )


def test_audio_committed_before_transcription_was_turned_on_is_said_with_the_late_update() -> None:
    """An update turning transcription on after a commit does not transcribe that commit's item (review 56c:
    a log whose update came after its first turn linted clean)."""
    first_turn, late = commit(), update(audio=transcription({"model": TRANSCRIBE}))
    findings, _ = lint(append(300), first_turn, late, append(300), commit())
    [found] = of_rule(findings, RULE)
    assert f"committed it (input_audio_buffer.commit #{first_turn.seq})" in found.message  # the first turn only
    assert f"Transcription was turned on only later, by session.update #{late.seq}" in found.message
    assert "it sent no session.update before it" in found.message and found.severity is Severity.WARNING


def test_a_ga_update_with_the_beta_field_is_read_as_asking_not_as_null() -> None:
    """`{"type": "realtime", "input_audio_transcription": {...}}` was said to set transcription to null
    (review 56c): it asks for it in the beta place, which a GA server refuses; no verdict of this rule."""
    beta_field = sent(
        "session.update", session={"type": "realtime", "input_audio_transcription": {"model": "whisper-1"}}
    )
    findings, _ = lint(beta_field, append(300), commit())
    assert of_rule(findings, RULE) == []


def test_a_beta_client_gets_the_beta_fix_and_several_updates_are_named_as_a_span() -> None:
    flat = beta_session()
    del flat["input_audio_transcription"]
    first = sent("session.update", session=flat)
    second = sent("session.update", session={"voice": "verse"})
    findings, _ = lint(first, second, append(300), commit())
    found = of_rule(findings, RULE)[0]
    assert f"(session.update #{first.seq} to session.update #{second.seq} leave it out)" in found.message
    assert 'session.input_audio_transcription {"model": "whisper-1"}' in found.fix


def test_audio_left_to_server_vad_is_judged_too() -> None:
    findings, _ = lint(update(instructions="hi"), append(800))
    found = of_rule(findings, RULE)[0]
    assert "for the server's turn detection to commit" in found.message


def test_the_server_in_the_recording_a_transcription_session_or_refused_commits_are_not_judged() -> None:
    answered, _ = lint(ga_created(vad=False), update(instructions="hi"), append(300), commit())
    assert of_rule(answered, RULE) == []  # what the server applied is known: transcription-off-at-commit's
    # An error from the server: the recording is not the client's side alone (it said it was, review 56c).
    errors_only, _ = lint(update(), append(300), commit(), received("error", error={"code": "x", "message": "y"}))
    assert of_rule(errors_only, RULE) == []
    transcribing, _ = lint(sent("session.update", session={"type": "transcription"}), append(300), commit())
    beta_transcribing, _ = lint(sent("transcription_session.update", session={}), append(300), commit())
    too_short, _ = lint(update(), append(20), commit())
    assert of_rule(transcribing, RULE) == of_rule(beta_transcribing, RULE) == []
    assert rules(too_short) == ["commit-too-short"]  # no item was made: no transcript to miss


def test_each_connection_is_judged_on_its_own_once() -> None:
    ended = local_envelope("rt.connection", "closed", state="closed")
    on = update(audio=transcription({"model": TRANSCRIBE}))
    findings, _ = lint(connecting(), update(), append(300), commit(), ended, connecting(), on, append(300), commit())
    found = of_rule(findings, RULE)
    assert len(found) == 1 and "session.update" in found[0].message


def test_rt_tui_lint_reports_it_and_fails_on_warning_when_asked(tmp_path: Path) -> None:
    log = tmp_path / "client.jsonl"
    events = [
        {"type": "session.update", "session": {"type": "realtime", "instructions": "be brief"}},
        {"type": "input_audio_buffer.append", "audio": b64(speech(400))},
        {"type": "input_audio_buffer.commit"},
        {"type": "response.create"},
        # A typo of a client event: the client's (read as the server's, it made the log look two-sided
        # and hid the finding, review 56c).
        {"type": "input_audio_buffer.apend", "audio": "AAAA"},
    ]
    log.write_text("".join(json.dumps(event) + "\n" for event in events))
    command = [sys.executable, "-m", "tui", "lint", str(log)]
    default = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert default.returncode == 1, default.stdout + default.stderr  # the typo: unknown-client-event, an error
    assert f"warning: {RULE}: The client appended 400 ms of user audio" in default.stdout
    assert "what the server applied, and what it refused, cannot be told" in default.stderr
    strict = subprocess.run([*command, "--fail-on", "warning", "--json"], capture_output=True, text=True, timeout=60)
    assert strict.returncode == 1
    assert [json.loads(line)["rule"] for line in strict.stdout.splitlines()] == ["unknown-client-event", RULE]


def test_a_log_with_the_server_s_session_and_the_client_s_frames_says_transcription_was_off() -> None:
    """A log holding the server's session.created (transcription null) and the client's frames, but no
    input_audio_buffer.committed, linted clean (review 56c): neither rule judged it."""
    created = ga_created(vad=True)
    turn = commit()
    findings, _ = lint(created, update(instructions="hi"), append(500), turn, sent("response.create"))
    [found] = of_rule(findings, "transcription-off-at-commit")
    assert found.message.startswith(f"input_audio_buffer.commit #{turn.seq}, which the server never answered,")
    assert f"session.created #{created.seq} applied audio.input.transcription: null" in found.message
    asked, _ = lint(created, update(audio=transcription({"model": TRANSCRIBE})), append(500), commit())
    assert of_rule(asked, "transcription-off-at-commit") == []  # its update, unanswered too, may have turned it on
    assert of_rule(findings, RULE) == []  # the server is in the recording


def test_a_client_only_log_s_updates_are_judged_in_the_dialect_they_are_shaped_in() -> None:
    """With no server frame the dialect rules waited for ever: a GA update without session.type, or a GA
    one with a beta field, linted clean (review 56c). At the end they are judged in the client's shape."""
    no_type = sent("session.update", session={"audio": {"input": {"transcription": {"model": TRANSCRIBE}}}})
    findings, _ = lint(no_type, append(300), commit())
    assert [f.frames[0] for f in of_rule(findings, "session-type-missing")] == [0]
    mixed = sent("session.update", session={"type": "realtime", "input_audio_transcription": {"model": "whisper-1"}})
    findings, _ = lint(mixed, append(300), commit())
    [found] = of_rule(findings, "dialect-mismatch")
    assert "input_audio_transcription (→ audio.input.transcription)" in found.message
    flat = sent("session.update", session={"input_audio_transcription": {"model": "whisper-1"}, "voice": "alloy"})
    findings, _ = lint(flat, append(300), commit())
    assert findings == []  # a beta client, consistently: its server speaks beta
