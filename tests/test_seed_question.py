"""The original question, replayed exactly with the official client's beta connection.

Forum thread "Content transcript is null with Retrieve event" (protocol reference §4.3): beta
header, `input_audio_transcription` {whisper-1, en, "Use a British accent."}, a WAV file (header
and all) sent as `input_audio` in `conversation.item.create`, then `conversation.item.retrieve`.
The service leaves `transcript` null and sends no transcription events for such audio; the same
words sent through the input buffer are transcribed.
"""

from __future__ import annotations

import asyncio
import base64
import io
from typing import Any, cast

import numpy as np
import soundfile

from tests.server_helpers import running_simulator, speech_pcm24
from tests.surface_helpers import Judged, official_client
from tui.protocol import Dialect

WORDS = "what is the weather like in London today"
TRANSCRIPTION_PREFIX = "conversation.item.input_audio_transcription."
#: How long the replay watches for transcription events of the created item.
QUIET_SECONDS = 3.0


def wav_file_bytes() -> bytes:
    """The words as a 24 kHz mono PCM16 WAV file, RIFF header included."""
    out = io.BytesIO()
    soundfile.write(out, np.frombuffer(speech_pcm24(WORDS), dtype="<i2"), 24000, format="WAV", subtype="PCM_16")
    return out.getvalue()


async def test_item_create_audio_is_never_transcribed_but_buffer_audio_is() -> None:
    wav = wav_file_bytes()
    assert wav[:4] == b"RIFF"
    async with running_simulator(dialect=Dialect.BETA, response_speed=0) as sim:
        client = official_client(sim)
        async with client.beta.realtime.connect(model="gpt-4o-realtime-preview-2024-12-17") as conn:
            stream = Judged(conn, beta=True)
            created_session = await stream.next()
            await conn.session.update(
                session={
                    "input_audio_transcription": {
                        "model": "whisper-1",
                        "language": "en",
                        "prompt": "Use a British accent.",
                    }
                }
            )
            updated = await stream.next()
            await conn.conversation.item.create(
                item={
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_audio", "audio": base64.b64encode(wav).decode("ascii")}],
                }
            )
            started = asyncio.get_running_loop().time()
            created = await stream.next()
            item_id = created["item"]["id"]
            await conn.conversation.item.retrieve(item_id=item_id)
            retrieved = await stream.next()

            # The same words through the buffer (manual turn, so VAD does not answer first).
            # `null` turns VAD off; the SDK's TypedDict forgot that it is nullable.
            await conn.session.update(session=cast(Any, {"turn_detection": None}))
            await stream.until("session.updated")
            await conn.input_audio_buffer.append(audio=base64.b64encode(wav).decode("ascii"))
            await conn.input_audio_buffer.commit()
            later = await stream.until(TRANSCRIPTION_PREFIX + "completed")
            remaining = QUIET_SECONDS - (asyncio.get_running_loop().time() - started)
            later += await stream.during(max(remaining, 0.0))

    assert created_session["type"] == "session.created"
    assert updated["session"]["input_audio_transcription"] == {
        "model": "whisper-1",
        "language": "en",
        "prompt": "Use a British accent.",
    }
    assert updated["session"]["turn_detection"]["type"] == "server_vad"
    # Exactly what the question saw: one conversation.item.created, transcript null, then null on retrieve.
    assert created["type"] == "conversation.item.created"
    assert created["item"]["content"] == [{"type": "input_audio", "transcript": None}]
    assert retrieved["type"] == "conversation.item.retrieved"
    assert retrieved["item"]["content"][0]["transcript"] is None
    assert base64.b64decode(retrieved["item"]["content"][0]["audio"]) == wav
    # Nothing ever transcribes the created item, nor answers it (VAD only answers committed audio).
    assert not [e for e in stream.events if e["type"].startswith(TRANSCRIPTION_PREFIX) and e["item_id"] == item_id]
    assert not [e["type"] for e in stream.events if e["type"].startswith("response.")]
    # The buffered copy of the same words is transcribed (whisper-1: one delta, trailing newline).
    committed = next(e for e in later if e["type"] == "input_audio_buffer.committed")
    transcription = [e for e in later if e["type"].startswith(TRANSCRIPTION_PREFIX)]
    assert {e["item_id"] for e in transcription} == {committed["item_id"]}
    completed = transcription[-1]
    assert completed["type"] == TRANSCRIPTION_PREFIX + "completed"
    assert {"weather", "london"} <= set(completed["transcript"].lower().replace("?", " ").split())
    assert completed["transcript"].endswith("\n")
    assert [e["delta"] for e in transcription if e["type"].endswith("delta")] == [completed["transcript"]]


async def test_the_same_beta_client_is_refused_by_the_ga_simulator() -> None:
    async with running_simulator() as sim:
        client = official_client(sim)
        async with client.beta.realtime.connect(model="gpt-4o-realtime-preview-2024-12-17") as conn:
            stream = Judged(conn, beta=True)
            error = await stream.next()
            # The SDK does not expose the close frame; its websockets connection does.
            await asyncio.wait_for(conn._connection.wait_closed(), 5)
            closed = conn._connection.protocol.close_rcvd
    assert error["error"]["code"] == "beta_api_shape_disabled"
    assert closed is not None and closed.code == 4000
