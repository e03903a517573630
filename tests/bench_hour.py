"""An hour's session through the app: memory at the end, then filter times over its journal.

Run alone with `python -m tests.bench_hour`; `make bench` runs it. Figures are printed, never
asserted.

Each design runs in a fresh interpreter (`python -m tests.bench_hour --child DESIGN`), fed the
same synthetic hour (tests/bench_traffic.py: 178,653 frames, 346 MB of base64 audio), made one
batch at a time as the session reader makes them (each received frame parsed from its wire text)
and published on the app's bus, `BATCH` frames per pump, painted every `PAINT_EVERY` batches
(headless, 140×40):

- `journal`: the real `RtApp` (journal + projections, transcript, event log, status line);
- `richlog`: the naive app, one `RichLog` line per event (tests/bench_helpers.py).

At the end, after a garbage collection, each reports VmRSS (and the peak, VmHWM). The two run at
once (the figure is memory, not time); then the `journal` child, alone again, times
`RtApp.apply_filter` over its journal for a few typical queries, in CPU time of the UI thread
(the work is synchronous, so on a quiet machine that is the wall time too): the call itself (the
first screen's scan) and until the first screen update with its results is composed (handed to
`App._display`), against the same for no filter (every frame shown). The rest of a sparse
filter's view is built in slices after that update; the figure does not include them. Last, a
find over the whole journal (a word in 2,724 frames, a word in none), searched in slices between
screen updates: the longest slice (how long the UI waited at most) and the CPU time of them all,
against asking every frame's text in one go (how a find searched before: in one go, and audio
frames one by one rather than once per type and ids).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import sys
import time
from typing import Any

from tests.bench_helpers import child_env, peak_rss_mb, rss_mb
from tests.bench_traffic import MARKER_WORD, HourSession, batches, envelopes
from tui.journal import Finder
from tui.session import FRAMES

BATCH = 1000
PAINT_EVERY = 10
"""Batches between paints: painting allocates nothing that lasts, and the naive app's paints are
slow (every `RichLog.write` queues a scroll to the end), so both designs paint once per 10,000."""
SIZE = (140, 40)


def queries(item_id: str) -> list[tuple[str, str]]:
    """(label, query) of the filters timed; the first is the baseline, no filter."""
    return [
        ("no filter", ""),
        ("type:response.*", "type:response.*"),
        ("-type:*.delta dir:in", "-type:*.delta dir:in"),
        ("item:<an item id>", f"item:{item_id}"),
        ("response.status!=completed", "response.status!=completed"),
        (f"a free word ({MARKER_WORD})", MARKER_WORD),
    ]


async def run_journal() -> None:
    """The real app: feed the hour, report memory, then (when told to go on) the filter times."""
    from tui.app import RtApp
    from tui.config import Settings

    app = RtApp(Settings(playback=False, capture=False, reconnect=False), connect=False)
    session = HourSession()
    started = time.perf_counter()
    async with app.run_test(size=SIZE) as pilot:
        frames = 0
        for number, batch in enumerate(batches(envelopes(session.frames()), BATCH)):
            for env in batch:
                app.bus.publish(FRAMES, env)
            app._pump()
            if number % PAINT_EVERY == 0:
                await pilot.pause(0)
            frames += len(batch)
        del batch
        await pilot.pause(0.2)
        gc.collect()
        journal = app.journal
        _report(
            frames=frames,
            seconds=time.perf_counter() - started,
            rss=rss_mb(),
            peak=peak_rss_mb(),
            journal=len(journal),
            payloads_dropped=journal.payloads_dropped,
            kept_large_mb=journal.kept_large_bytes / 1e6,
            rows=len(app.conversation.order),
        )
        sys.stdin.readline()  # the other design has finished: time the filters on a quiet machine
        item_id = session.item_ids[len(session.item_ids) // 2]
        composed = _spy_on_screen_updates(app)
        results = []
        for label, query in queries(item_id):
            await pilot.pause(0)
            composed.clear()
            started = time.thread_time()
            assert app.apply_filter(query), f"the query {query!r} was refused"
            applied = time.thread_time() - started
            while not composed:  # the first screen of results, composed for the terminal
                await pilot.pause(0)
            painted = composed[0] - started
            results.append([label, applied, painted, app.log_view.shown])
        _report(filters=results)
        app.clear_filter()
        await pilot.pause(0)
        finds = []
        log = app.event_log
        holds: list[float] = []
        search_on = log._search_on

        def timed(ticket: int, forward: bool | None) -> None:
            started = time.thread_time()
            search_on(ticket, forward)
            holds.append(time.thread_time() - started)

        log._search_on = timed  # type: ignore[method-assign]
        for word in (MARKER_WORD, "zebra"):
            holds.clear()
            started = time.thread_time()
            app._find(word)  # the find bar's Enter: the first slice, then one per turn of the loop
            holds.append(time.thread_time() - started)
            finder = log.finder
            assert finder is not None
            while not (finder.searched(app.log_view) and log._searching is None):
                await pilot.pause(0)
            app.end_find()
            # The baseline: the same search asking every frame's text in one go (how a find searched before).
            journal, pattern = app.journal, Finder(word).pattern
            started = time.thread_time()
            hits = [i for i in app.log_view.indices if pattern.search(journal.search_text(i))]
            asked = time.thread_time() - started
            finds.append([word, max(holds), sum(holds), len(holds), asked, len(hits)])
        _report(finds=finds)


def _spy_on_screen_updates(app: Any) -> list[float]:
    """A list that gets the UI thread's CPU time of each screen update the app composes from now on
    (Textual hands each to `App._display`, which a headless app then does not write)."""
    composed: list[float] = []
    display = app._display

    def spy(screen: Any, renderable: Any) -> None:
        if renderable is not None:
            composed.append(time.thread_time())
        display(screen, renderable)

    app._display = spy
    return composed


async def run_richlog() -> None:
    """The naive app fed the same hour; report its memory."""
    from tests.bench_helpers import RichLogApp

    app = RichLogApp()
    started = time.perf_counter()
    async with app.run_test(size=SIZE) as pilot:
        for number, batch in enumerate(batches(envelopes(HourSession().frames()), BATCH)):
            for env in batch:
                app.bus.publish(FRAMES, env)
            app.pump()
            if number % PAINT_EVERY == 0:
                await pilot.pause(0)
        del batch
        await pilot.pause(0.2)
        gc.collect()
        _report(frames=app.events, seconds=time.perf_counter() - started, rss=rss_mb(), peak=peak_rss_mb())


def _report(**figures: Any) -> None:
    print(json.dumps(figures), flush=True)


async def _line(stream: asyncio.StreamReader, what: str) -> dict[str, Any]:
    line = await stream.readline()
    if not line:
        raise RuntimeError(f"{what} ended without its figures")
    result: dict[str, Any] = json.loads(line)
    return result


async def bench_hour() -> None:
    """Print RSS after an hour (vs the RichLog app), then the filter times over the hour's journal."""
    spawn = [sys.executable, "-m", "tests.bench_hour", "--child"]
    pipe = asyncio.subprocess.PIPE
    journal = await asyncio.create_subprocess_exec(*spawn, "journal", stdin=pipe, stdout=pipe, env=child_env())
    naive = await asyncio.create_subprocess_exec(*spawn, "richlog", stdout=pipe, env=child_env())
    assert journal.stdout is not None and journal.stdin is not None and naive.stdout is not None
    try:
        ours = await _line(journal.stdout, "the journal app")
        theirs = await _line(naive.stdout, "the RichLog app")
        await naive.wait()
        journal.stdin.write(b"go\n")
        await journal.stdin.drain()
        filters = (await _line(journal.stdout, "the filter timing"))["filters"]
        finds = (await _line(journal.stdout, "the find timing"))["finds"]
        await journal.wait()
    finally:
        for process in (journal, naive):
            if process.returncode is None:
                process.kill()
                await process.wait()
    print(
        f"RSS after an hour's session ({ours['frames']:,} frames, 346 MB of base64 audio, fed in "
        f"{ours['seconds']:.0f} s): {ours['rss']:.0f} MB (peak {ours['peak']:.0f}; {ours['payloads_dropped']:,} "
        f"payloads left for the capture file, {ours['kept_large_mb']:.0f} MB kept) vs the RichLog-per-event app "
        f"{theirs['rss']:.0f} MB (peak {theirs['peak']:.0f}; fed in {theirs['seconds']:.0f} s) (target ≤ 150 MB)"
    )
    parts = [
        f"{label} {rebuild * 1000:.0f} / {painted * 1000:.0f} ms ({shown:,} shown)"
        for label, rebuild, painted, shown in filters
    ]
    print(
        f"filter over the hour's {ours['journal']:,}-frame journal, CPU ms of apply_filter / to the first screen: "
        + "; ".join(parts)
        + " (target ≤ 100 ms to the first screen)"
    )
    print(
        "find over the same journal, CPU ms: "
        + "; ".join(
            f"{word!r} ({hits:,} frames hold it) searched in {slices} slices, the longest {longest * 1000:.0f} ms, "
            f"{total * 1000:.0f} ms in all, vs asking every frame's text in one go {asked * 1000:.0f} ms"
            for word, longest, total, slices, asked, hits in finds
        )
        + " (no target; the done-when: the UI does not stall)"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--child", choices=("journal", "richlog"))
    args = parser.parse_args()
    os.environ.pop("OPENAI_API_KEY", None)
    if args.child == "journal":
        asyncio.run(run_journal())
    elif args.child == "richlog":
        asyncio.run(run_richlog())
    else:
        asyncio.run(bench_hour())


if __name__ == "__main__":
    main()
