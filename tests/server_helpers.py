"""Helpers for the simulator tests: speech fixtures, a client socket, event collection."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import json
import random
import re
import socket
import subprocess
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import numpy as np
import soundfile
import soxr
from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import ServerConnection, serve

from tui.bus import Bus, Subscription
from tui.protocol import Envelope
from tui.server import Simulator, SimulatorConfig, warm_up
from tui.session import FRAMES, CaptureWriter, RealtimeSession, url_target

RATE = 24000
BYTES_PER_MS = 48


@functools.lru_cache(maxsize=32)
def speech_pcm24(text: str) -> bytes:
    """`text` spoken by the espeak-ng binary, as 24 kHz mono PCM16 (cached per text)."""
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "speech.wav"
        subprocess.run(["espeak-ng", "-v", "en-us", "-w", str(wav), text], check=True, capture_output=True)
        samples, rate = soundfile.read(wav, dtype="int16")
    if samples.ndim > 1:
        samples = samples[:, 0]
    resampled = soxr.resample(samples, rate, RATE)
    return np.asarray(resampled, dtype="<i2").tobytes()


def silence(ms: int) -> bytes:
    """Digital silence of `ms` milliseconds."""
    return bytes(ms * BYTES_PER_MS)


def b64(pcm: bytes) -> str:
    """Base64 text of raw audio, as the wire carries it."""
    return base64.b64encode(pcm).decode("ascii")


def pcm_of(events: list[dict[str, Any]], event_type: str = "response.output_audio.delta") -> bytes:
    """The decoded audio of every `event_type` delta, concatenated."""
    return b"".join(base64.b64decode(e["delta"]) for e in events if e["type"] == event_type)


def types(events: list[dict[str, Any]]) -> list[str]:
    """The event types, in order."""
    return [str(e["type"]) for e in events]


def of_type(events: list[dict[str, Any]], event_type: str) -> list[dict[str, Any]]:
    """The events of one type, in order."""
    return [e for e in events if e["type"] == event_type]


@contextlib.asynccontextmanager
async def running_simulator(**overrides: Any) -> AsyncIterator[Simulator]:
    """A simulator on a free loopback port; the speech engines start loading at once."""
    warm_up()
    async with Simulator(SimulatorConfig(**overrides)) as simulator:
        yield simulator


@contextlib.asynccontextmanager
async def client(url: str, *, model: str = "gpt-realtime") -> AsyncIterator[ClientConnection]:
    """A raw WebSocket to the simulator, already past `session.created`."""
    async with connect(f"{url}?model={model}", compression=None, max_size=64 * 2**20) as ws:
        first = await recv(ws, timeout=5)
        assert first["type"] == "session.created", first
        yield ws


async def send(ws: ClientConnection, event: dict[str, Any]) -> None:
    """Send one client event."""
    await ws.send(json.dumps(event))


async def recv(ws: ClientConnection, *, timeout: float = 10.0) -> dict[str, Any]:
    """The next server event, parsed."""
    raw = await asyncio.wait_for(ws.recv(), timeout)
    assert isinstance(raw, str), "the simulator must send text frames"
    event = json.loads(raw)
    assert isinstance(event, dict)
    return event


async def recv_until(ws: ClientConnection, event_type: str, timeout: float = 10.0) -> list[dict[str, Any]]:
    """Collect events up to and including the first one of `event_type`."""
    events: list[dict[str, Any]] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        remaining = deadline - loop.time()
        try:
            event = await recv(ws, timeout=max(remaining, 0.001))
        except TimeoutError:
            raise AssertionError(f"no {event_type} within {timeout}s; got {types(events)}") from None
        events.append(event)
        if event["type"] == event_type:
            return events


async def recv_for(ws: ClientConnection, seconds: float) -> list[dict[str, Any]]:
    """Every event that arrives within `seconds`."""
    events: list[dict[str, Any]] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while (remaining := deadline - loop.time()) > 0:
        try:
            events.append(await recv(ws, timeout=remaining))
        except TimeoutError:
            break
    return events


async def append_audio(ws: ClientConnection, pcm: bytes, *, chunk_ms: int = 100) -> None:
    """Stream audio as `input_audio_buffer.append` events of `chunk_ms` each."""
    step = chunk_ms * BYTES_PER_MS
    for start in range(0, len(pcm), step):
        await send(ws, {"type": "input_audio_buffer.append", "audio": b64(pcm[start : start + step])})


def session_patch(*, transcription: str | None = None, vad: bool = False, **extra: Any) -> dict[str, Any]:
    """A GA `session.update` payload for the common test setups."""
    audio_in: dict[str, Any] = {
        "transcription": {"model": transcription} if transcription else None,
        "turn_detection": {"type": "server_vad"} if vad else None,
    }
    return {"type": "session.update", "session": {"type": "realtime", "audio": {"input": audio_in}, **extra}}


def rms_dbfs(pcm: bytes) -> float:
    """Overall level of PCM16 audio in dBFS (-inf for digital silence)."""
    samples = np.frombuffer(pcm, dtype="<i2").astype(np.float64) / 32768.0
    energy = float(np.mean(np.square(samples))) if samples.size else 0.0
    return 10.0 * float(np.log10(energy)) if energy > 0 else float("-inf")


_ID_PREFIX = re.compile(r"^(event|item|resp|call|conv|sess)_[A-Za-z0-9]+$")
#: Fields whose values (not only types) a golden comparison checks: they name what an event is.
STABLE_FIELDS = frozenset({"type", "object", "status", "role", "content_index", "output_index", "code"})


def golden_shape(value: Any, key: str | None = None) -> Any:
    """What a golden comparison sees: keys, JSON types, and the values of stable fields.

    Every list entry is compared (not only the first), each distinct shape once; ids keep their
    prefix. Stable fields (`STABLE_FIELDS`: event, item, part and error types, object, status,
    role, indexes, error code) keep their values; other strings and numbers are compared by type
    only, so ids, texts and timings may differ.
    """
    if isinstance(value, dict):
        return {k: golden_shape(v, k) for k, v in sorted(value.items())}
    if isinstance(value, list):
        # Every entry, each distinct shape once in order of appearance: a list of parts differs
        # when a part type differs, but a longer word or logprob list (content) does not.
        shapes: list[Any] = []
        for entry in value:
            entry_shape = golden_shape(entry, key if not isinstance(entry, dict | list) else None)
            if entry_shape not in shapes:
                shapes.append(entry_shape)
        return shapes
    if key in STABLE_FIELDS and value is not None and not isinstance(value, dict | list):
        return f"{type(value).__name__}={value!r}"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        match = _ID_PREFIX.match(value)
        return f"id:{match.group(1)}" if match else "string"
    return "null"


@contextlib.asynccontextmanager
async def scripted_peer(handler: Callable[[ServerConnection], Awaitable[None]]) -> AsyncIterator[str]:
    """A hand-written WebSocket server on a free loopback port (for frames the simulator never
    sends); yields its Realtime URL."""
    async with serve(handler, "127.0.0.1", 0, compression=None) as server:
        port = server.sockets[0].getsockname()[1]
        yield f"ws://127.0.0.1:{port}/v1/realtime?model=gpt-realtime"


BURST = [json.dumps({"type": "response.output_text.delta", "delta": "x" * 200, "n": n}) for n in range(8)]
ALONE = json.dumps({"type": "response.output_text.done", "text": "done"})


@contextlib.asynccontextmanager
async def burst_gathered(
    capture: CaptureWriter | None,
) -> AsyncIterator[tuple[RealtimeSession, Subscription[Envelope]]]:
    """A session (writing `capture`) whose server has sent `BURST` while the session's reading was
    paused: the burst waits in the socket, read at once when reading resumes, which it has on
    entry. The server answers any other frame with `ALONE`. Yields the session and its
    subscription to frames."""
    burst_sent = asyncio.Event()

    async def peer(ws: ServerConnection) -> None:
        await ws.send(json.dumps({"type": "session.created", "session": {"id": "sess_stamps"}}))
        async for message in ws:
            if json.loads(message)["type"] == "burst":
                for text in BURST:
                    await ws.send(text)  # into the client's socket buffer: loopback delivers at once
                burst_sent.set()
            else:
                await ws.send(ALONE)

    async with scripted_peer(peer) as url:
        bus = Bus()
        feed = bus.subscribe(FRAMES)
        session = RealtimeSession(url_target(url), bus, capture=capture)
        await session.connect()
        try:
            assert session._ws is not None
            session._ws.transport.pause_reading()  # the burst gathers in the socket
            session.send({"type": "burst"})
            await asyncio.wait_for(burst_sent.wait(), 10)
            session._ws.transport.resume_reading()
            yield session, feed
        finally:
            await session.close()


async def captured_until_closed(
    peer: Callable[[ServerConnection], Awaitable[None]], folder: Path
) -> tuple[RealtimeSession, CaptureWriter]:
    """A real session, captured into `folder`, against a scripted server running `peer`, until the
    connection ends (the capture closed): the session (its close reason) and its capture."""
    async with scripted_peer(peer) as url:
        capture = CaptureWriter(folder)
        session = RealtimeSession(url_target(url), Bus(), capture=capture)
        await session.connect()
        await asyncio.wait_for(session.wait_closed(), 10)
        capture.close()
    return session, capture


def free_port() -> int:
    """A loopback port nobody listens on, for a server started on it twice (a restart), that no
    connection takes meanwhile as its own end: from below the ephemeral range (Linux's 32768–60999,
    macOS's 49152–65535), where the kernel picks the local ports of outgoing connections, and the
    app's reconnects while the server is down pick theirs (one took a port 0 handed out: EADDRINUSE)."""
    for _ in range(200):
        port = random.randrange(20_000, 32_000)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 20000–32000")
