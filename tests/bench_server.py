"""The simulator under load: concurrent real-time talkers, and the event rate of one session.

Run alone with `python -m tests.bench_server [--levels 10,25,50] [--cycles 2]`; `make bench` runs
it after the figures of tests/bench.py. Figures are printed, never asserted.

Talkers: N sessions, each streaming espeak speech with silence around it as 20 ms
`input_audio_buffer.append` chunks paced at real time (an absolute schedule, so a late chunk does
not push the next ones back), transcription on (gpt-4o-transcribe deltas), committing each
utterance by hand. Sessions start at seeded random offsets within one utterance, as independent
speakers would. A level passes when

- no session falls behind real time: every chunk leaves the load generator at most
  SEND_LAG_LIMIT_S after its slot (the send loop waits when the server stops reading, so this
  also catches a server that falls behind), and every `input_audio_buffer.committed` arrives at
  most BACKLOG_LIMIT_S after its commit was sent (the commit is handled after every append before
  it, so this is the server's processing backlog);
- p95 of commit → `…transcription.completed` stays under P95_LIMIT_S.

The simulator runs in this process; the load generator runs in a child process (its own
interpreter and event loop), but both share this machine's cores, which the figures say.
The firehose is one session receiving a long text reply at `response_speed` 0.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

LEVELS = (10, 25, 50, 75, 100)
CYCLES = 2
UTTERANCES = (
    "what is the weather like in London today",
    "turn on the kitchen lights",
    "please book a table for two people tonight",
)
PAD_MS = 300
"""Silence kept before and after each utterance in the committed audio."""
LISTEN_MS = 2000
"""Silence streamed between turns (the talker listening), then cleared: it talks about half the time."""
CHUNK_MS = 20
SEND_LAG_LIMIT_S = 0.1
BACKLOG_LIMIT_S = 0.1
P95_LIMIT_S = 0.5
DRAIN_TIMEOUT_S = 60.0
REFINE_GAP = 10
"""After the first failing level, halve the gap to the last passing one until it is this small."""
FIREHOSE_WORDS = 2000
FIREHOSE_RESPONSES = 5
TRANSCRIBE = "gpt-4o-transcribe"


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (0.0 for no values)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered) + 0.5) - 1))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}"


# ---- the load generator (child process) ---------------------------------------------------------


CLEAR = '{"type":"input_audio_buffer.clear"}'
COMMIT = '{"type":"input_audio_buffer.commit"}'


def turn_audio(text: str) -> bytes:
    """What a turn commits: the utterance with PAD_MS of silence each side."""
    from tests.server_helpers import silence, speech_pcm24

    return silence(PAD_MS) + speech_pcm24(text) + silence(PAD_MS)


def _clips() -> list[list[str]]:
    """Each turn as ready-to-send 20 ms frames: listening silence, a clear, the turn, a commit."""
    from tests.server_helpers import b64, silence

    step = CHUNK_MS * 48

    def frames(pcm: bytes) -> list[str]:
        return [
            json.dumps({"type": "input_audio_buffer.append", "audio": b64(pcm[i : i + step])})
            for i in range(0, len(pcm), step)
        ]

    return [frames(silence(LISTEN_MS)) + [CLEAR] + frames(turn_audio(text)) + [COMMIT] for text in UTTERANCES]


async def _expect(ws: Any, event_type: str) -> None:
    while json.loads(await asyncio.wait_for(ws.recv(), 30))["type"] != event_type:
        pass


async def _talker(
    url: str, index: int, clips: list[list[str]], cycles: int, start_at: float, transcription: bool, vad: bool
) -> dict[str, Any]:
    """One real-time session. With `vad`, server VAD ends each turn (the client never clears or
    commits) and latency runs from the server's `committed` to `.completed`."""
    from websockets.asyncio.client import connect

    loop = asyncio.get_running_loop()
    commits: list[float] = []
    committed: list[tuple[str, float]] = []
    completed: dict[str, float] = {}
    failed: set[str] = set()
    finished = asyncio.Event()
    lags: list[float] = []
    # 500 ms of silence ends a VAD turn (the documented default): espeak's pauses between words are
    # shorter, so a turn is one item, as it is for the push-to-talk talkers.
    detection = {"type": "server_vad", "create_response": False, "silence_duration_ms": 500} if vad else None
    audio_in = {"transcription": {"model": TRANSCRIBE} if transcription else None, "turn_detection": detection}
    async with connect(f"{url}?model=gpt-realtime", compression=None, max_size=None, ping_interval=None) as ws:
        await _expect(ws, "session.created")
        await ws.send(
            json.dumps({"type": "session.update", "session": {"type": "realtime", "audio": {"input": audio_in}}})
        )
        await _expect(ws, "session.updated")

        async def read() -> None:
            async for raw in ws:
                event = json.loads(raw)
                kind, now = event["type"], loop.time()
                if kind == "input_audio_buffer.committed":
                    committed.append((event["item_id"], now))
                    if not transcription and len(committed) == cycles:
                        finished.set()
                elif kind == "conversation.item.input_audio_transcription.completed":
                    completed[event["item_id"]] = now
                elif kind == "conversation.item.input_audio_transcription.failed":
                    failed.add(event["item_id"])
                if transcription and len(completed) + len(failed) == cycles:
                    finished.set()

        reader = asyncio.create_task(read())
        await asyncio.sleep(max(0.0, start_at - loop.time()))
        origin, slot = loop.time(), 0
        for cycle in range(cycles):
            for frame in clips[(index + cycle) % len(clips)]:
                if vad and frame in (CLEAR, COMMIT):
                    continue
                if frame == COMMIT:
                    commits.append(loop.time())
                elif frame != CLEAR:
                    target = origin + slot * CHUNK_MS / 1000
                    if (wait := target - loop.time()) > 0:
                        await asyncio.sleep(wait)
                    lags.append(loop.time() - target)
                    slot += 1
                await ws.send(frame)
        try:
            await asyncio.wait_for(finished.wait(), DRAIN_TIMEOUT_S)
        except TimeoutError:
            pass
        reader.cancel()
    backlog = [at - commits[i] for i, (_, at) in enumerate(committed[: len(commits)])]
    if vad:
        latency = [completed[item] - at for item, at in committed if item in completed]
        never_ended = max(0, cycles - len(committed)) + sum(
            1 for item, _ in committed if item not in completed and item not in failed
        )
    else:
        latency = [completed[item] - commits[i] for i, (item, _) in enumerate(committed) if item in completed]
    return {
        "max_lag": max(lags, default=0.0),
        "lags": lags,
        "backlog": backlog,
        "latency": latency,
        "failed": len(failed),
        "missing": never_ended
        if vad
        else (cycles - len(latency) - len(failed) if transcription else cycles - len(committed)),
    }


async def load_talkers(
    url: str, sessions: int, cycles: int, seed: int, transcription: bool, vad: bool = False
) -> dict[str, Any]:
    """Run N talkers against `url`; the figures of every session, pooled."""
    clips = _clips()
    period = statistics.mean(len(clip) - 2 for clip in clips) * CHUNK_MS / 1000
    rng = random.Random(seed)
    loop = asyncio.get_running_loop()
    begin = loop.time() + 1.0  # connect everyone first
    cpu, wall = time.process_time(), time.monotonic()
    results = await asyncio.gather(
        *(_talker(url, i, clips, cycles, begin + rng.uniform(0, period), transcription, vad) for i in range(sessions))
    )
    return {
        "period": period,
        "max_lags": [r["max_lag"] for r in results],
        "lags": [lag for r in results for lag in r["lags"]],
        "backlog": [b for r in results for b in r["backlog"]],
        "latency": [x for r in results for x in r["latency"]],
        "failed": sum(r["failed"] for r in results),
        "missing": sum(r["missing"] for r in results),
        "cpu": time.process_time() - cpu,
        "wall": time.monotonic() - wall,
    }


async def load_firehose(url: str, words: int, responses: int) -> dict[str, Any]:
    """One session asking for long text replies back to back; events and bytes it received."""
    from websockets.asyncio.client import connect

    text = " ".join(f"word{i}" for i in range(words))
    async with connect(f"{url}?model=gpt-realtime", compression=None, max_size=None, ping_interval=None) as ws:
        await _expect(ws, "session.created")
        await ws.send(
            json.dumps({"type": "session.update", "session": {"type": "realtime", "output_modalities": ["text"]}})
        )
        await _expect(ws, "session.updated")
        item = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
        await ws.send(json.dumps({"type": "conversation.item.create", "item": item}))
        await _expect(ws, "conversation.item.done")
        events = size = 0
        started = time.monotonic()
        for _ in range(responses):
            await ws.send('{"type":"response.create"}')
            while True:
                raw = await ws.recv()
                events += 1
                size += len(raw)
                if json.loads(raw)["type"] == "response.done":
                    break
        elapsed = time.monotonic() - started
    return {"events": events, "bytes": size, "seconds": elapsed}


# ---- the simulator side (this process) ----------------------------------------------------------


class LoopLag:
    """How late this event loop wakes up for a 10 ms timer: the simulator's own scheduling delay."""

    def __init__(self) -> None:
        self.samples: list[float] = []
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(0.01)
            self.samples.append(loop.time() - before - 0.01)


async def _child(*args: str) -> dict[str, Any]:
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.bench_server", "--load-generator", *args, stdout=asyncio.subprocess.PIPE
    )
    out, _ = await process.communicate()
    if process.returncode != 0:
        raise RuntimeError(f"load generator failed ({process.returncode})")
    result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return result


@dataclass(frozen=True, slots=True)
class Level:
    """One load level's verdict and figures."""

    sessions: int
    passed: bool
    line: str


async def run_level(url: str, sessions: int, cycles: int, *, transcription: bool = True, vad: bool = False) -> Level:
    """One load level against the running simulator at `url`."""
    lag = LoopLag()
    lag.start()
    cpu, wall = time.process_time(), time.monotonic()
    flags = ("1" if transcription else "0", "1" if vad else "0")
    result = await _child("talkers", url, str(sessions), str(cycles), "7", *flags)
    server_cpu = (time.process_time() - cpu) / (time.monotonic() - wall)
    await lag.stop()
    worst_lag = max(result["max_lags"], default=0.0)
    behind = sum(1 for value in result["max_lags"] if value > SEND_LAG_LIMIT_S)
    backlog_max = max(result["backlog"], default=0.0)
    p95 = percentile(result["latency"], 0.95)
    passed = behind == 0 and backlog_max <= BACKLOG_LIMIT_S and result["missing"] == 0
    if transcription:
        passed = passed and p95 < P95_LIMIT_S
    line = (
        f"  N={sessions:>3}: send lag p99 {ms(percentile(result['lags'], 0.99))} / max {ms(worst_lag)} ms "
        f"({behind} behind)"
    )
    if not vad:
        line += f"; commit→committed p95 {ms(percentile(result['backlog'], 0.95))} / max {ms(backlog_max)} ms"
    if transcription:
        line += (
            f"; {'VAD commit' if vad else 'commit'}→completed p50 {ms(percentile(result['latency'], 0.5))} "
            f"/ p95 {ms(p95)} / max "
            f"{ms(max(result['latency'], default=0.0))} ms ({len(result['latency'])} turns"
            f"{', ' + str(result['failed']) + ' failed' if result['failed'] else ''}"
            f"{', ' + str(result['missing']) + ' missing' if result['missing'] else ''})"
        )
    line += (
        f"; server loop lag p99 {ms(percentile(lag.samples, 0.99))} ms; CPU server {server_cpu:.0%} / "
        f"load generator {result['cpu'] / result['wall']:.0%} of a core  {'PASS' if passed else 'FAIL'}"
    )
    return Level(sessions, passed, line)


async def _asr_service_time() -> tuple[float, float]:
    """Median seconds of one serialized ASR run per turn, and the mean period of a talker's turns."""
    from tui.server.asr import get_asr

    runs: list[float] = []
    lengths: list[float] = []
    for text in UTTERANCES:
        pcm = turn_audio(text)
        lengths.append(len(pcm) / 48000 + LISTEN_MS / 1000)
        for _ in range(3):
            started = time.perf_counter()
            await get_asr().transcribe(pcm)
            runs.append(time.perf_counter() - started)
    return statistics.median(runs), statistics.mean(lengths)


async def bench_simulator(levels: Sequence[int] = LEVELS, cycles: int = CYCLES) -> None:
    """Concurrent real-time talkers (largest N that keeps up), then one session's event rate."""
    from tui.server import Simulator, SimulatorConfig, warm_up
    from tui.server.asr import POOL_SIZE

    warm_up(wait=True)
    asr_s, period_s = await _asr_service_time()
    print(
        f"simulator, concurrent talkers on {os.cpu_count()} cores (the load generator runs in a separate process, "
        f"on the same cores): each session streams {CHUNK_MS} ms chunks at real time, repeating {LISTEN_MS} ms of "
        f"silence, a clear, then a turn (espeak speech with {PAD_MS} ms padding) and a commit, every "
        f"{period_s:.1f} s on average; {TRANSCRIBE} transcription; {cycles} turns per session"
    )
    print(
        f"  pass = no chunk sent > {ms(SEND_LAG_LIMIT_S)} ms late, commit→committed ≤ {ms(BACKLOG_LIMIT_S)} ms, "
        f"p95 commit→completed < {ms(P95_LIMIT_S)} ms. ASR (moonshine tiny, {POOL_SIZE} single-threaded "
        f"recognizers): {ms(asr_s)} ms per turn when idle, so the pool saturates near "
        f"N≈{POOL_SIZE * period_s / asr_s:.0f} if the recognizers scaled perfectly"
    )
    async with Simulator(SimulatorConfig()) as sim:
        paced = await run_level(sim.url, 1, cycles)
    print(
        "  the default config paces transcription deltas 20 ms apart, like the service's streaming; alone:\n"
        + paced.line
    )
    print("  the sweep sends them unpaced (SimulatorConfig(transcription_delta_interval=0)) to measure capacity:")
    best, broke = 0, 0
    async with Simulator(SimulatorConfig(transcription_delta_interval=0)) as sim:
        for sessions in levels:
            level = await run_level(sim.url, sessions, cycles)
            print(level.line, flush=True)
            if not level.passed:
                broke = sessions
                break
            best = sessions
        # Narrow down where it breaks, a couple of levels at most.
        while broke and best and broke - best > REFINE_GAP:
            sessions = (best + broke) // 2
            level = await run_level(sim.url, sessions, cycles)
            print(level.line, flush=True)
            best, broke = (sessions, broke) if level.passed else (best, sessions)
        level = await run_level(sim.url, max(levels), 1, transcription=False)
        print(f"  control, transcription off:\n{level.line}", flush=True)
        if best:
            level = await run_level(sim.url, best, cycles, vad=True)
            print(f"  hands-free, server VAD ends every turn (no client commits), same N:\n{level.line}", flush=True)
    print(f"  largest N that keeps up with transcription on: {best if best else f'< {levels[0]}'}")
    # The capacity figure is unpaced; a user of the default config also waits for the paced deltas
    # (20 ms a word), so report where that config keeps the same p95 target too.
    paced_best = 0
    async with Simulator(SimulatorConfig()) as sim:
        for sessions in [n for n in levels if n <= best] or [levels[0]]:
            level = await run_level(sim.url, sessions, cycles)
            print(f"  default (paced) config:\n{level.line}", flush=True)
            if not level.passed:
                break
            paced_best = sessions
    print(f"  largest N that keeps up with the default (paced) config: {paced_best or f'< {levels[0]}'}")
    async with Simulator(SimulatorConfig(response_speed=0)) as sim:
        result = await _child("firehose", sim.url, str(FIREHOSE_WORDS), str(FIREHOSE_RESPONSES))
    print(
        f"simulator firehose, one session (text replies of ~{FIREHOSE_WORDS} deltas at response_speed 0, "
        f"client parses every frame): {result['events'] / result['seconds']:,.0f} events/s, "
        f"{result['bytes'] / result['seconds'] / 1e6:.1f} MB/s ({result['events']} events)"
    )


def main(argv: list[str] | None = None) -> None:
    """`python -m tests.bench_server`: the benchmark; `--load-generator ...` is the child side."""
    parser = argparse.ArgumentParser(prog="python -m tests.bench_server")
    parser.add_argument("--levels", default=",".join(str(n) for n in LEVELS), help="session counts to try")
    parser.add_argument("--cycles", type=int, default=CYCLES, help="turns per session")
    parser.add_argument("--load-generator", nargs="+", metavar="ARG", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.load_generator:
        kind, url, *rest = args.load_generator
        if kind == "talkers":
            sessions, cycles, seed, transcription, vad = (int(value) for value in rest)
            result = asyncio.run(load_talkers(url, sessions, cycles, seed, bool(transcription), bool(vad)))
        else:
            words, responses = (int(value) for value in rest)
            result = asyncio.run(load_firehose(url, words, responses))
        print(json.dumps(result))
        return
    os.environ.pop("OPENAI_API_KEY", None)
    asyncio.run(bench_simulator([int(n) for n in args.levels.split(",")], args.cycles))


if __name__ == "__main__":
    main()
