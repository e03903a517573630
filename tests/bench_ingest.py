"""Event ingest and the transcript's cost per reply, measured as the UI thread's CPU time.

Run alone with `python -m tests.bench_ingest`; `make bench` runs it. Figures are printed, never
asserted.

- **Ingest**, the bench's mix (tests/bench_traffic.py) in batches of `BATCH` (the pump's batch at
  30k events/s), each batch followed by one paint of the screen (`pilot.pause(0)`: pending
  messages, then a compositor refresh that renders every dirty line). A rate at saturation is a
  steady state: each app first takes `PREROLL_FRAMES` frames untimed, so the once-a-session
  layouts (each pane's scrollbar appearing: ~50 ms, a tenth of a timed run) fall before the clock
  starts. Frames per CPU second of the UI thread (sleeps and other processes do not count), for
  (a) the event-log pane alone: `EventLog.frames_added()` over a `LogView` of a journal the batch
      was appended to (the append is not timed), against a `RichLog` written one line per event;
  (b) the whole pipeline: bus publish → `RtApp._pump` → journal + projections (conversation,
      facts, links, linter) → transcript, log, status line, against the RichLog app's pump.
  Each design runs once untimed (a warm-up), then `INGEST_RUNS` times, the two designs of a
  comparison in alternation (this machine's speed drifts by 1.5× within a minute, so a ratio is
  taken between runs a second apart): the median of each design's rates, and the median of the
  runs' ratios, are printed, with the fastest run of each (the code's cost when the machine was not
  slowed, as `timeit` reports its best).
- **The projections' cost per frame with a long history**: the journal and its projections alone
  (`tui.model`, no screen) take `FLAT_EXCHANGES` exchanges in the pump's batches, into a session
  holding `STEADY_HISTORY` finished exchanges and into one holding `LONG_HISTORY`, for two kinds of
  traffic: the bench's voice mix (397 frames an exchange) and text exchanges (7 frames each, where
  work done once per reply weighs most). Frames per CPU second of each, `FLAT_RUNS` runs alternating,
  medians; the short history is the baseline (target: the same rate, a ratio of 1.0). The baseline
  is a session in its steady state, not a fresh one: the journal keeps the parsed JSON of its last
  4,096 frames, and from then on each frame lets one go (its dict freed, ~3 µs of a text exchange's
  frame), which a fresh session's first 4,096 frames never pay; against a fresh session the long one
  read 1.12× slower in the same runs, the journal alone 4.4 vs 7.8 µs a frame. The runs keep the
  app's garbage-collection policy (`tui.app.heap`: full collections rare), as the app does once it
  has painted: under CPython's default, a full collection walks the whole history, which only the
  long session's runs paid (1.71× in one `make bench`).
- **The transcript's cost per streaming reply**: one reply streams at 65 events/s (audio and
  transcript deltas, paced in real time) through the running app after 0, `FULL_PANES_TURNS` and
  `HISTORY_TURNS` earlier exchanges: the UI thread's CPU per second of the reply, and how often
  the transcript re-renders its block and paints lines. With no history, neither pane is full yet:
  no row scrolls and no scrollbar is drawn. Once they fill, each screen update also renders both
  scrollbars and cuts more strips (profiled over three replies: 7,605 → 19,621 `Strip.divide` calls,
  the compositor's own time 0.09 → 0.16 s). The short history separates that from the history's
  cost. `REPLY_RUNS` runs of each, alternating (a machine that drifts favours neither), each figure
  the median of its runs.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from textual.app import App, ComposeResult
from textual.pilot import Pilot

from tests.bench_helpers import CpuClock, RichLogApp
from tests.bench_traffic import HourSession, batches, envelopes
from tui.config import Settings
from tui.journal import Journal, LogView
from tui.protocol import Envelope
from tui.session import FRAMES

BATCH = 1000
INGEST_RUNS = 5
"""Timed runs of each ingest design (after one warm-up run), in pairs with its baseline's."""
INGEST_EXCHANGES = 50
"""Exchanges timed in each design (19,850 frames, 38 MB of base64 audio)."""
PREROLL_EXCHANGES = 5
"""Exchanges each app takes untimed first (1,988 frames: both panes scroll by then)."""
HISTORY_TURNS = 900
FULL_PANES_TURNS = 30
"""A history just long enough that both panes are full at `SIZE` (they scroll and have scrollbars): the
reply after it costs what the screen costs, so the step to `HISTORY_TURNS` is the history's own cost."""
REPLY_RATE = 65
"""Events per second of the streaming reply (half audio deltas, half transcript deltas)."""
REPLY_SECONDS = 4.0
REPLY_RUNS = 3
"""Runs of each history length, alternating (each figure printed is the median of its runs)."""
SIZE = (140, 40)
LONG_HISTORY = 3000
"""Finished exchanges (6,000 rows) a long session holds before the flatness runs are timed."""
STEADY_HISTORY = 600
"""Finished exchanges (4,200 frames) of the baseline's history: past the journal's window of parsed
frames (4,096), so that each frame lets an old one's parsed JSON go, as in any session minutes in."""
FLAT_EXCHANGES = {"voice": 30, "text": 1200}
"""Exchanges timed in each flatness run, by kind (about 12,000 and 8,400 frames: long enough that a
slow spell of the machine moves one run less)."""
FLAT_RUNS = 5
PUMP_BATCH = 66
"""Frames per pump tick at 2,000 events/s (the pump runs 30 times a second)."""


def _settings() -> Settings:
    return Settings(playback=False, capture=False, reconnect=False)


class PaneApp(App[None]):
    """The event-log pane alone, over a journal the bench fills."""

    def __init__(self) -> None:
        super().__init__()
        self.journal = Journal()
        self.view = LogView(self.journal)

    def compose(self) -> ComposeResult:
        from tui.widgets import EventLog

        self.event_log = EventLog(self.view, id="event-log")
        yield self.event_log


async def _settle(pilot: Pilot[None]) -> None:
    await pilot.pause()
    await pilot.pause(0.2)


class Split:
    """The UI thread's CPU for a run of batches, in two parts: taking each batch in (`work`), and
    everything until the screen is painted (`paint`: pending messages and timers, then the
    compositor rendering every dirty line)."""

    def __init__(self, frames: int) -> None:
        self.frames = frames
        self.batches = -(-frames // BATCH)
        self.work = CpuClock()
        self.paint = CpuClock()

    @property
    def rate(self) -> float:
        """Frames per CPU second."""
        return self.frames / (self.work.seconds + self.paint.seconds)

    def parts(self) -> str:
        """`30 µs/event taken in + 20 ms/paint`."""
        return (
            f"{self.work.seconds / self.frames * 1e6:.1f} µs/event taken in + "
            f"{self.paint.seconds / self.batches * 1000:.1f} ms/paint"
        )


@dataclass
class Traffic:
    """The frames of an ingest run: those taken untimed first, then those timed."""

    preroll: list[Envelope]
    timed: list[Envelope]

    @classmethod
    def make(cls) -> Traffic:
        session = HourSession(PREROLL_EXCHANGES + INGEST_EXCHANGES)
        frames = list(envelopes(session.start()))
        for _ in range(PREROLL_EXCHANGES):
            frames.extend(envelopes(session.exchange()))
        return cls(frames, [env for _ in range(INGEST_EXCHANGES) for env in envelopes(session.exchange())])

    def __len__(self) -> int:
        return len(self.preroll) + len(self.timed)


async def _drive(
    pilot: Pilot[None],
    traffic: Traffic,
    take: Callable[[list[Envelope]], None],
    prepare: Callable[[list[Envelope]], None] | None = None,
) -> Split:
    """Feed the traffic in batches, each taken in by `take` (after an untimed `prepare`) and painted
    once; only the batches of `traffic.timed` count."""
    for batch in batches(traffic.preroll, BATCH):
        if prepare is not None:
            prepare(batch)
        take(batch)
        await pilot.pause(0)
    frames = traffic.timed
    split = Split(len(frames))
    await _settle(pilot)
    for batch in batches(frames, BATCH):
        if prepare is not None:
            prepare(batch)
        split.work.start()
        take(batch)
        split.work.stop()
        split.paint.start()
        await pilot.pause(0)
        split.paint.stop()
    split.paint.start()
    await pilot.pause(0.1)  # timers still pending (the transcript's deferred repaint)
    split.paint.stop()
    return split


async def ingest_pane(frames: Traffic) -> Split:
    """The event-log pane over a journal (the journal appends are not timed)."""
    app = PaneApp()

    def journal(batch: list[Envelope]) -> None:
        for env in batch:
            app.journal.append(env)

    def take(batch: list[Envelope]) -> None:
        app.event_log.frames_added()

    async with app.run_test(size=SIZE) as pilot:
        split = await _drive(pilot, frames, take, journal)
        assert app.view.shown == len(frames), "the pane did not take every frame"
    return split


async def ingest_richlog_pane(frames: Traffic) -> Split:
    """A RichLog written one line per event."""
    app = RichLogApp()
    async with app.run_test(size=SIZE) as pilot:
        split = await _drive(pilot, frames, app.ingest)
        assert len(app.rich_log.lines) == len(frames), "the RichLog did not take every frame"
    return split


async def ingest_pipeline(frames: Traffic) -> Split:
    """The whole app: bus, pump, journal and projections, every view."""
    from tui.app import RtApp

    app = RtApp(_settings(), connect=False)

    def take(batch: list[Envelope]) -> None:
        for env in batch:
            app.bus.publish(FRAMES, env)
        app._pump()

    async with app.run_test(size=SIZE) as pilot:
        split = await _drive(pilot, frames, take)
        assert len(app.journal) >= len(frames), "the app did not journal every frame"
    return split


async def ingest_richlog_pipeline(frames: Traffic) -> Split:
    """The naive app: bus, pump, one RichLog line per event."""
    app = RichLogApp()

    def take(batch: list[Envelope]) -> None:
        for env in batch:
            app.bus.publish(FRAMES, env)
        app.pump()

    async with app.run_test(size=SIZE) as pilot:
        split = await _drive(pilot, frames, take)
        assert app.events == len(frames), "the RichLog app did not take every frame"
    return split


Design = Callable[[Traffic], Awaitable[Split]]


@dataclass
class Comparison:
    """Paired runs of a design and its baseline."""

    ours: list[Split]
    baseline: list[Split]

    @staticmethod
    def _median(values: list[float]) -> float:
        ordered = sorted(values)
        middle = len(ordered) // 2
        return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2

    def rate(self, runs: list[Split]) -> float:
        """The median rate of `runs`."""
        return self._median([split.rate for split in runs])

    def median_run(self, runs: list[Split]) -> Split:
        """The run of median rate (its µs/event and ms/paint are printed)."""
        return sorted(runs, key=lambda split: split.rate)[len(runs) // 2]

    @property
    def ratio(self) -> float:
        """The median of the runs' ratios (ours over the baseline run beside it)."""
        return self._median([a.rate / b.rate for a, b in zip(self.ours, self.baseline, strict=True)])

    def describe(self, unit: str) -> str:
        """`40,000 events per CPU-second (…) vs … : 20.1×` with the fastest runs beside."""
        ours, baseline = self.median_run(self.ours), self.median_run(self.baseline)
        best, best_baseline = max(s.rate for s in self.ours), max(s.rate for s in self.baseline)
        ratios = sorted(a.rate / b.rate for a, b in zip(self.ours, self.baseline, strict=True))
        return (
            f"{self.rate(self.ours):,.0f} {unit} ({ours.parts()}) vs {self.rate(self.baseline):,.0f} "
            f"({baseline.parts()}): {self.ratio:.1f}× (median of the pairs' ratios, "
            f"{ratios[0]:.1f}–{ratios[-1]:.1f}×); fastest runs {best:,.0f} vs {best_baseline:,.0f}"
        )


async def compared(ours: Design, baseline: Design, traffic: Traffic) -> Comparison:
    """`INGEST_RUNS` runs of each design, in alternation, after one untimed warm-up run of each: the
    first run of a design in a process pays its imports and fills Textual's and Rich's caches,
    which a session paying the rate at saturation (minutes in) has long done."""
    await ours(traffic)
    await baseline(traffic)
    comparison = Comparison([], [])
    for _ in range(INGEST_RUNS):
        comparison.ours.append(await ours(traffic))
        comparison.baseline.append(await baseline(traffic))
    return comparison


async def bench_ingest() -> None:
    """Print the event-log ingest figures: the pane alone and the whole pipeline, each vs RichLog."""
    traffic = Traffic.make()
    audio = sum(env.size for env in traffic.timed if env.size > 1000) / 1e6
    label = (
        f"{len(traffic.timed):,} frames of the bench's mix ({audio:.0f} MB) timed after {len(traffic.preroll):,} "
        f"untimed, one paint per {BATCH:,}; {INGEST_RUNS} runs of each, in alternation, after a warm-up run"
    )
    pane = await compared(ingest_pane, ingest_richlog_pane, traffic)
    print(f"event-log pane alone: {pane.describe('frames per CPU-second')} (a RichLog written per event); {label}")
    whole = await compared(ingest_pipeline, ingest_richlog_pipeline, traffic)
    print(
        "whole pipeline (bus → pump → journal + projections → transcript, log, status) vs the RichLog-per-event "
        f"app: {whole.describe('events per CPU-second')} (target ≥ 50,000 and ≥ 20×); same frames, runs as above"
    )


class Meter:
    """Calls and thread CPU time of some methods of one object (instance attributes shadow them).

    Nested calls (one metered method calling another) count once, in the outermost.
    """

    def __init__(self, target: object, *names: str) -> None:
        self.calls: dict[str, int] = dict.fromkeys(names, 0)
        self.seconds = 0.0
        self._depth = 0
        for name in names:
            setattr(target, name, self._wrap(name, getattr(target, name)))

    def _wrap(self, name: str, original: Callable[..., Any]) -> Callable[..., Any]:
        def metered(*args: Any, **kwargs: Any) -> Any:
            self.calls[name] += 1
            self._depth += 1
            started = time.thread_time()
            try:
                return original(*args, **kwargs)
            finally:
                self._depth -= 1
                if not self._depth:
                    self.seconds += time.thread_time() - started

        return metered


@dataclass
class ReplyCost:
    """What one streaming reply cost the running app, per second of the reply."""

    rows: int
    idle: float
    """The app's CPU share with nothing arriving, over as long a window."""
    app: float
    """The UI thread's CPU share while the reply streams."""
    transcript: float
    """The share spent in the transcript's own code (sync, repaint, its lines)."""
    renders: float
    """Blocks rendered per second."""
    lines: float
    """Transcript lines painted per second."""

    def describe(self) -> str:
        return (
            f"app {self.app:.0%} of a core (idle {self.idle:.0%}), transcript code {self.transcript:.1%}, "
            f"{self.renders:.1f} block renders/s, {self.lines:.0f} lines painted/s"
        )


async def reply_cost(history: int) -> ReplyCost:
    """One reply streaming at `REPLY_RATE` events/s through the app, after `history` earlier exchanges."""
    from tui.app import RtApp

    app = RtApp(_settings(), connect=False)
    session = HourSession(None, seed=11)
    loop = asyncio.get_running_loop()
    async with app.run_test(size=SIZE) as pilot:
        app.ingest(list(envelopes(session.start())))
        for done in range(0, history, 100):
            frames = [frame for _ in range(min(100, history - done)) for frame in session.history_exchange()]
            app.ingest(list(envelopes(frames)))
        await _settle(pilot)
        rows = len(app.conversation.order)
        reply = list(envelopes(session.reply(round(REPLY_RATE * REPLY_SECONDS / 2))))
        started, cpu = loop.time(), time.thread_time()
        await asyncio.sleep(REPLY_SECONDS)
        idle = (time.thread_time() - cpu) / (loop.time() - started)
        meter = Meter(app.transcript, "sync", "_flush", "render_line")
        renders = app.transcript.renders
        started, cpu = loop.time(), time.thread_time()
        for n, env in enumerate(reply):
            delay = started + n / REPLY_RATE - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)  # an absolute schedule: a late frame does not delay the next
            app.bus.publish(FRAMES, env)
        await asyncio.sleep(0.1)  # the last batch and its repaint
        wall, cpu = loop.time() - started, time.thread_time() - cpu
        assert app.conversation.ordered()[-1].text, "the reply did not reach the transcript"
        return ReplyCost(
            rows,
            idle,
            cpu / wall,
            meter.seconds / wall,
            (app.transcript.renders - renders) / wall,
            meter.calls["render_line"] / wall,
        )


def median_cost(runs: list[ReplyCost]) -> ReplyCost:
    """Each figure's median over `runs` (of one history length)."""

    def median(values: list[float]) -> float:
        return sorted(values)[len(values) // 2]

    return ReplyCost(
        runs[0].rows,
        median([r.idle for r in runs]),
        median([r.app for r in runs]),
        median([r.transcript for r in runs]),
        median([r.renders for r in runs]),
        median([r.lines for r in runs]),
    )


async def bench_transcript_reply() -> None:
    """Print the transcript's cost per streaming reply with an empty, a short and a long history."""
    lengths = (0, FULL_PANES_TURNS, HISTORY_TURNS)
    runs: dict[int, list[ReplyCost]] = {history: [] for history in lengths}
    for _ in range(REPLY_RUNS):
        for history in lengths:
            runs[history].append(await reply_cost(history))
    empty, short, full = (median_cost(runs[history]) for history in lengths)
    by_run = " vs ".join(", ".join(f"{r.app:.0%}" for r in runs[history]) for history in lengths)
    print(
        f"one reply streaming at {REPLY_RATE} events/s (audio + transcript deltas), per second of it: "
        f"after 0 turns {empty.describe()}; after {FULL_PANES_TURNS} exchanges ({short.rows:,} rows, both panes "
        f"full) {short.describe()}; after {HISTORY_TURNS} exchanges ({full.rows:,} rows) {full.describe()} "
        f"(target: the same cost; {FULL_PANES_TURNS} vs {HISTORY_TURNS} is the history's own share, 0 vs "
        f"{FULL_PANES_TURNS} the panes' filling up: scrolling, scrollbars; medians of {REPLY_RUNS} runs of each, "
        f"alternating; app share by run: {by_run})"
    )


def projections_rate(history: int, kind: str) -> float:
    """Frames per CPU second of the journal and its projections taking `FLAT_EXCHANGES[kind]` exchanges
    after `history` finished ones (the history is not timed)."""
    from tui.model import new_model

    model = new_model()
    session = HourSession(None, seed=11)
    model.ingest(list(envelopes(session.start())))
    for done in range(0, history, 100):
        model.ingest(list(envelopes([f for _ in range(min(100, history - done)) for f in session.history_exchange()])))
    make = session.exchange if kind == "voice" else session.history_exchange
    timed = list(envelopes([frame for _ in range(FLAT_EXCHANGES[kind]) for frame in make()]))
    cpu = time.thread_time()
    for batch in batches(timed, PUMP_BATCH):
        model.ingest(batch)
    return len(timed) / (time.thread_time() - cpu)


def bench_projections_flat() -> None:
    """Print the projections' rate after a long history beside a short one's (see the module doc)."""
    from tui.app.heap import release_heap, settle_heap

    settle_heap()
    try:
        parts = [_flatness(kind) for kind in FLAT_EXCHANGES]
    finally:
        release_heap()
    print(
        f"journal + projections after {LONG_HISTORY:,} finished exchanges vs after {STEADY_HISTORY} (the journal's "
        f"window of parsed frames full; target: the same rate, 1.00×; medians of {FLAT_RUNS} alternating runs, the "
        f"app's collector policy): {'; '.join(parts)}"
    )


def _flatness(kind: str) -> str:
    """`text exchanges: 58,000 vs 60,000 frames per CPU-second, short/long 1.03× (0.98–1.10)`."""
    projections_rate(0, kind)  # warm-up: imports, first-time caches
    short: list[float] = []
    long: list[float] = []
    for run in range(FLAT_RUNS):
        # ABBA: a machine whose speed drifts favours neither.
        for history in (STEADY_HISTORY, LONG_HISTORY) if run % 2 == 0 else (LONG_HISTORY, STEADY_HISTORY):
            (short if history == STEADY_HISTORY else long).append(projections_rate(history, kind))
    ratios = sorted(s / h for s, h in zip(short, long, strict=True))
    return (
        f"{kind} exchanges: {sorted(long)[len(long) // 2]:,.0f} vs {sorted(short)[len(short) // 2]:,.0f} "
        f"frames per CPU-second, short/long {ratios[len(ratios) // 2]:.2f}× ({ratios[0]:.2f}–{ratios[-1]:.2f})"
    )


async def main() -> None:
    await bench_ingest()
    bench_projections_flat()
    await bench_transcript_reply()


if __name__ == "__main__":
    os.environ.pop("OPENAI_API_KEY", None)
    asyncio.run(main())
