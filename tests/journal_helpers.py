"""Building envelopes by hand for journal, filter and log-view tests."""

from __future__ import annotations

import base64
import json
from typing import Any

from tui.protocol import Direction, Envelope, local_envelope, next_seq


class Clock:
    """Monotonic times that advance by a fixed step per frame (tests never read the real clock)."""

    def __init__(self, step: float = 0.01) -> None:
        self.now = 1000.0
        self.step = step

    def tick(self) -> float:
        self.now += self.step
        return self.now


def frame(direction: Direction, data: dict[str, Any], clock: Clock | None = None) -> Envelope:
    """An envelope whose raw text is the compact JSON of `data`."""
    raw = json.dumps(data, separators=(",", ":"))
    mono = clock.tick() if clock is not None else 0.0
    return Envelope(next_seq(), direction, str(data["type"]), data, raw, mono, 1.7e9 + mono)


def received(etype: str, clock: Clock | None = None, **fields: Any) -> Envelope:
    return frame(Direction.IN, {"type": etype, "event_id": f"event_{next_seq()}", **fields}, clock)


def sent(etype: str, clock: Clock | None = None, **fields: Any) -> Envelope:
    return frame(Direction.OUT, {"type": etype, "event_id": f"evt_{next_seq()}", **fields}, clock)


def connecting(clock: Clock | None = None) -> Envelope:
    env = local_envelope("rt.connection", "connecting to test", state="connecting", target="test")
    if clock is None:
        return env
    mono = clock.tick()
    return Envelope(env.seq, env.direction, env.type, env.data, env.raw, mono, 1.7e9 + mono)


def audio_b64(ms: int = 100) -> str:
    """Base64 of `ms` milliseconds of 24 kHz PCM16 silence."""
    return base64.b64encode(bytes(48 * ms)).decode()


def response_stream(response_id: str, item_id: str, words: list[str], clock: Clock | None = None) -> list[Envelope]:
    """A response's audio and transcript deltas, interleaved as the service sends them."""
    out: list[Envelope] = []
    for word in words:
        out.append(
            received(
                "response.output_audio.delta", clock, response_id=response_id, item_id=item_id, delta=audio_b64(100)
            )
        )
        out.append(
            received(
                "response.output_audio_transcript.delta", clock, response_id=response_id, item_id=item_id, delta=word
            )
        )
    return out


def refusal(of: Envelope, code: str, message: str) -> Envelope:
    """The server's `error` refusing a frame we sent (`of`), naming it by its event_id."""
    error = {"type": "invalid_request_error", "code": code, "message": message, "event_id": of.data["event_id"]}
    return received("error", error=error)


def cancel_refused() -> tuple[Envelope, Envelope]:
    """A `response.cancel` we sent with nothing active, and the `response_cancel_not_active` error
    the server answers it with (naming it by its event_id)."""
    cancel = sent("response.cancel")
    return cancel, refusal(cancel, "response_cancel_not_active", "Cancellation failed: no active response found")
