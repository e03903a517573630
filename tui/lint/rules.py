"""The rule catalogue: every rule id the linter can report, its usual severity, and what triggers it."""

from __future__ import annotations

from dataclasses import dataclass

from .finding import Severity


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule: a stable id, the severity it usually reports with, and what triggers it."""

    id: str
    severity: Severity
    trigger: str


_ERROR, _WARNING, _INFO = Severity.ERROR, Severity.WARNING, Severity.INFO

RULES: dict[str, Rule] = {
    rule.id: rule
    for rule in (
        Rule(
            "item-create-audio-not-transcribed",
            _ERROR,
            "conversation.item.create with an input_audio part carrying audio and no transcript of its own: the "
            "server never transcribes it (error when transcription is on, warning when off)",
        ),
        Rule(
            "transcription-off-at-commit",
            _WARNING,
            "user audio committed (client commit or server VAD) while the session the server last applied has "
            "input transcription off (a client commit sent behind a session.update, or under server VAD, counts "
            "once the server's input_audio_buffer.committed answers it); names the update that asked for "
            "transcription when the server refused it, and a session.updated that turned it on too late",
        ),
        Rule(
            "transcript-never-came",
            _WARNING,
            "a committed user item that no conversation.item.input_audio_transcription event named before the "
            "connection or the recording ended, though a response.done came after its commit (or the connection "
            "ended at least 5 s after it), while transcription was on (info when the recording does not show the "
            "session's configuration)",
        ),
        Rule(
            "transcription-not-requested",
            _WARNING,
            "a recording of the client's side alone (no frame from the server) whose client appended user audio "
            "before any session.update turned input transcription on, which a Realtime session starts with off "
            "(info when an update set it to null on purpose; a transcription session, and audio only in commits "
            "the server refuses as too short, are not judged)",
        ),
        Rule(
            "transcript-incomplete",
            _WARNING,
            "a committed user item whose transcription began (delta or segment events) but whose "
            "conversation.item.input_audio_transcription.completed (or .failed) never came before the connection "
            "ended as agreed, or the recording ended after a response.done: the transcript stays partial (a "
            "dropped connection is connection-dropped's)",
        ),
        Rule(
            "wav-header-in-audio",
            _ERROR,
            "appended or item.create audio that starts with a RIFF/WAVE header (once per turn or per item; a warning "
            "when the header declares the session's own format, an error when a second chunk of the turn has one)",
        ),
        Rule(
            "silent-audio", _WARNING, "a committed PCM16 turn (or item audio) that is all zeros; 5 s of zeros under VAD"
        ),
        Rule(
            "audio-sample-format",
            _ERROR,
            "a committed turn (or item audio) whose bytes are not samples of the session's input format: 8-bit "
            "G.711 or 32-bit float sent to a PCM16 session, stereo with the same sound in both channels, or 16-bit PCM "
            "sent to a G.711 session",
        ),
        Rule("clipped-audio", _WARNING, "a PCM16 turn or item whose sampled windows have ≥1% of samples at full scale"),
        Rule("byte-swapped-audio", _WARNING, "a PCM16 turn or item that is far smoother read big-endian"),
        Rule(
            "audio-rate-mismatch",
            _WARNING,
            "PCM16 appends that came, over two steady 3 s windows back to back (each half of each alone agreeing; "
            "30 appends a window at least), within 3% of the pace of live audio at another common sample rate "
            "(8, 11.025, 16, 32, 44.1 or 48 kHz); once per connection",
        ),
        Rule(
            "commit-too-short",
            _ERROR,
            "input_audio_buffer.commit with less than 100 ms appended since the last one (without turn detection), "
            "or one the server refused with input_audio_buffer_commit_empty; with the server recorded, said when it "
            "refuses it, or when the connection or the recording ends with it unanswered",
        ),
        Rule(
            "double-commit",
            _ERROR,
            "input_audio_buffer.commit under server VAD that the server took after VAD had committed the turn "
            "(with no speech detected since, or while the commit was on its way): a second item of leftover audio",
        ),
        Rule(
            "response-while-active",
            _ERROR,
            "response.create (default conversation) while a default-conversation response is in progress, or "
            "the server's conversation_already_has_active_response error",
        ),
        Rule(
            "truncate-missing-fields",
            _ERROR,
            "conversation.item.truncate without item_id, content_index or audio_end_ms",
        ),
        Rule(
            "truncate-past-audio",
            _ERROR,
            "conversation.item.truncate with audio_end_ms past the audio sent for the item (in its response's output "
            "format), or past an earlier conversation.item.truncated cut",
        ),
        Rule(
            "dialect-mismatch",
            _ERROR,
            "beta event names or session/response fields sent to a GA server, or GA ones sent to a beta server",
        ),
        Rule("session-type-missing", _ERROR, "a GA session.update without session.type"),
        Rule("session-type-mismatch", _ERROR, "a session.update whose session.type differs from the session's type"),
        Rule(
            "session-update-rejected",
            _ERROR,
            "an error naming a session.update (by event_id, or by a session.* param while the update is unanswered)",
        ),
        Rule("output-modalities-refused", _ERROR, "output_modalities (GA) or modalities (beta) the service refuses"),
        Rule("pcm-rate-not-24000", _ERROR, "an audio/pcm format with a rate other than 24000 in a session or response"),
        Rule("audio-format-unknown", _ERROR, "an audio format type the service does not know"),
        Rule(
            "transcription-failed", _ERROR, "conversation.item.input_audio_transcription.failed, with code and message"
        ),
        Rule(
            "unknown-server-event", _INFO, "a server event type neither dialect defines (once per type per connection)"
        ),
        Rule("unknown-client-event", _ERROR, "a client event type that neither dialect accepts"),
        Rule(
            "malformed-client-frame",
            _ERROR,
            "a frame the client sent that is not a JSON event (rt.malformed, out), or holds NaN/Infinity",
        ),
        Rule(
            "invalid-base64-audio",
            _ERROR,
            "append or item.create audio that is missing, not a string, or not base64 (once per turn; the server's "
            "error refusing each such append is folded into it)",
        ),
        Rule("append-too-large", _ERROR, "an input_audio_buffer.append carrying more than 15 MiB of audio"),
        Rule("cancel-not-active", _WARNING, "response.cancel that the server answered with response_cancel_not_active"),
        Rule(
            "upgrade-refused",
            _ERROR,
            "a connection that failed because the server refused the WebSocket upgrade with HTTP 401 or 403 (a "
            "missing or wrong key: Azure says so with no error event)",
        ),
        Rule(
            "connection-dropped",
            _ERROR,
            "a connection that ended without a close frame (1006) or with an error code while a response was in "
            "progress or a committed turn's transcription was awaited or under way (an error when a transcription "
            "was cut, a warning when only a response was)",
        ),
        Rule(
            "recording-cut-short",
            _WARNING,
            "a recording read to its end (lint, a replay) whose last connection never ended in it: rt-tui ends "
            "every capture with the connection's close, so the file stops short of its session (a capture that "
            "failed on a full disk, rt-tui killed, a session still running or exported while open)",
        ),
        Rule(
            "frame-refused",
            _ERROR,
            "a connection closed over a frame one side could not take: over the size limit (1009), text that is "
            "not UTF-8 (1007), or a WebSocket protocol error (1002)",
        ),
        Rule(
            "malformed-server-frame",
            _WARNING,
            "a frame the server sent that is not a JSON event (rt.malformed, in)",
        ),
        Rule(
            "response-failed",
            _ERROR,
            "a response.done with status failed (no error event says so), with its error and the response.create "
            "that began it (a warning for server_error: a failure on the service's side)",
        ),
        Rule(
            "server-error",
            _ERROR,
            "any other error event, with the client frame it names (a warning for session_expired: the end of "
            "the session's time, no fault of the client); the same error again on a connection is counted in the "
            "first one's finding",
        ),
    )
}
