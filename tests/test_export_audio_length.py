"""A transcript export says how long each user turn's audio was. The JSON said `"audio_ms": null`
of a turn whose appends the log showed as `[audio 129.7 KB · 2.77 s]`, and the Markdown only
`audio`. Push-to-talk through the real app, the fake ALSA microphone and the real simulator; server
VAD's committed span through the links projection."""

from __future__ import annotations

import base64
import json
from pathlib import Path

from tests.app_helpers import items, press_voice, wait_for
from tests.journal_helpers import received, sent
from tests.server_helpers import silence, speech_pcm24
from tests.test_voice_turns import QUESTION, appends, speech_streamed, voice_app
from tui.conversation.export import to_json, to_markdown
from tui.journal import Journal, Links, Pipeline
from tui.protocol import Direction


async def test_a_push_to_talk_turn_s_export_says_how_long_its_audio_was(tmp_path: Path, simulator_url: str) -> None:
    async with voice_app(tmp_path, simulator_url) as (app, pilot, _recorder, feeder):
        await press_voice(pilot, "space")
        feeder.play(speech_pcm24(QUESTION) + silence(300))
        # The whole question in the turn: cut after its first two seconds (as this test once did), a
        # loaded machine had sent too little of it to transcribe and the simulator said unintelligible.
        await wait_for(pilot, feeder.played.is_set, 20, "the question to be spoken")
        played_at = appends(app)
        await wait_for(pilot, lambda: speech_streamed(app, played_at + 10), 10, "the question's end sent")
        await press_voice(pilot, "space")
        await wait_for(pilot, lambda: any(item.text or item.error for item in items(app, "user")), 30, "the transcript")
        [user] = items(app, "user")
        assert user.text, user.error
        # What the turn's appends carried, decoded here from the frames the app sent.
        pcm = sum(
            len(base64.b64decode(app.journal.data(frame.index)["audio"]))
            for frame in app.journal
            if frame.direction is Direction.OUT and frame.type == "input_audio_buffer.append"
        )
        lengths = app._input_audio(app.conversation.ordered())
        assert abs(lengths[user.id] - pcm / 48) < 1, (lengths, pcm / 48)
        [record] = [r for r in json.loads(to_json(app.conversation.ordered(), lengths)) if r["id"] == user.id]
        assert record["audio_ms"] == round(pcm / 48)
        markdown = to_markdown(app.conversation.ordered(), (), lengths)
        assert f"audio {pcm / 48 / 1000:.2f} s" in markdown, markdown


def test_a_turn_server_vad_committed_is_as_long_as_the_span_it_said() -> None:
    pipeline = Pipeline(Journal())
    links = Links(pipeline.journal)
    pipeline.add(links)
    chunk = base64.b64encode(bytes(4800)).decode()  # 100 ms of 24 kHz PCM16
    frames = [
        received("session.created", session={"id": "s", "type": "realtime"}),
        *(sent("input_audio_buffer.append", audio=chunk) for _ in range(30)),
        received("input_audio_buffer.speech_started", audio_start_ms=300, item_id="item_u"),
        received("input_audio_buffer.speech_stopped", audio_end_ms=2450, item_id="item_u"),
        received("input_audio_buffer.committed", item_id="item_u", previous_item_id=None),
    ]
    pipeline.ingest(frames)
    assert links.input_audio_ms("item_u") == 2150
    assert links.input_audio_ms("item_typed") is None
