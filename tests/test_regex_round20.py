"""A user's regex never freezes the app: find and filter run it through `regex` with a timeout per
frame and a floor on its speed, so /(\\w+\\s?)+\\d$/ over long transcripts is refused in the filter
bar with a reason (the filter in force stays) and gives up at once in a find."""

from __future__ import annotations

import re

import pytest

from tests.app_helpers import notices, wait_for
from tests.journal_helpers import received
from tui.app import RtApp
from tui.config import Settings
from tui.journal import Finder, LogView, Pipeline, Query, QueryError
from tui.journal.query import compile_pattern
from tui.protocol import Envelope

# Polynomial backtracking: no single frame reaches the timeout, but it reads frames at tens of KB/s
# (five minutes over an hour's journal); and exponential: a timeout on the first long frame.
SLOW = r"/(\w+\s?)+\d$/"
EXPLOSIVE = r"/(.*e){12}z/"
TRANSCRIPT = "the quick brown fox jumps over the lazy dog and keeps on running here " * 15


def filter_status(app: RtApp) -> str:
    """What the filter bar's status line says."""
    return str(app.filter_bar.query_one(".query-bar--status").render())


def find_status(app: RtApp) -> str:
    """What the find bar's status line says."""
    return str(app.find_bar.query_one(".query-bar--status").render())


def _turns(count: int) -> list[Envelope]:
    """User turns with long transcripts (about 1,000 characters each), and a reply to each."""
    frames = []
    for n in range(count):
        frames.append(
            received(
                "conversation.item.input_audio_transcription.completed",
                item_id=f"item_{n}",
                transcript=TRANSCRIPT + f"turn {n} kitchen",
            )
        )
        frames.append(received("response.created", response={"id": f"resp_{n}", "status": "in_progress"}))
    return frames


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    pipeline = Pipeline()
    pipeline.ingest(_turns(40))
    return pipeline


@pytest.mark.parametrize("pattern", [SLOW, EXPLOSIVE, r"transcript~(\w+\s?)+\d$", rf"type:*completed {SLOW}"])
def test_a_pathological_filter_is_refused_with_a_reason(pipeline: Pipeline, pattern: str) -> None:
    with pytest.raises(QueryError, match="this pattern takes too long") as caught:
        Query(pattern, pipeline.journal)
    assert "\n" not in str(caught.value)


def test_a_pattern_that_never_times_out_on_a_frame_but_crawls_is_refused_for_its_speed() -> None:
    """Over 200-character transcripts /(\\w+\\s?)+\\d$/ takes milliseconds a frame, never the
    timeout, yet would take minutes over an hour's journal (and seconds a slice of the filter's
    build): its speed gives it away."""
    pipeline = Pipeline()
    short = TRANSCRIPT[:210]
    pipeline.ingest(
        [
            received("conversation.item.input_audio_transcription.completed", item_id=f"item_{n}", transcript=short)
            for n in range(200)
        ]
    )
    with pytest.raises(QueryError, match=r"this pattern takes too long: .* reads frames at [\d,]+ KB/s"):
        Query(SLOW, pipeline.journal)


def test_the_pattern_that_froze_the_app_now_answers_and_means_what_it_meant(pipeline: Pipeline) -> None:
    """The tester's /(\\w+\\s?)+!$/ (which froze `re` for good) is answered by `regex` at once."""
    query = Query(r"/(\w+\s?)+!$/", pipeline.journal)
    assert not any(query.match_index(index) for index in range(len(pipeline.journal)))
    assert query.problem is None
    # Over short texts `re` answers too: the same answers, frame by frame (the wire text ends in `"}`).
    short = Pipeline()
    short.ingest([received("response.output_text.done", text=text) for text in ("on now!", "on now", "!")])
    texts = [short.journal.search_text(index) for index in range(3)]
    for pattern in (r"(\w+\s?)+!$", r"(\w+\s?)+!\"}$", r"(\w+\s?)+!", r"NOW!"):
        query = Query(f"/{pattern}/i", short.journal)
        assert [query.match_index(i) for i in range(3)] == [bool(re.search(pattern, t, re.I)) for t in texts]
    assert Query(r'/(\w+\s?)+!"}$/', short.journal).match_index(0)


def test_a_filter_made_before_its_frames_came_gives_up_on_them_and_says_why() -> None:
    """A live filter is made over the frames so far: the frames that defeat its pattern come later,
    while the view is built; each gives up at once after the first, and `problem` says why."""
    pipeline = Pipeline()
    query = Query(EXPLOSIVE, pipeline.journal)
    pipeline.ingest(_turns(30))
    assert not any(query.match_index(index) for index in range(len(pipeline.journal)))
    assert query.problem is not None and query.problem.startswith("this pattern takes too long: /(.*e){12}z/")


def test_a_pathological_find_finds_nothing_and_says_why(pipeline: Pipeline) -> None:
    view = LogView(pipeline.journal)
    view.rebuild()
    for pattern in (SLOW, EXPLOSIVE):
        finder = Finder(pattern)
        assert finder.count(view) == 0
        assert finder.problem is not None and "this pattern takes too long" in finder.problem
        assert finder.spans(TRANSCRIPT) == []
    highlighting = Finder(EXPLOSIVE)
    assert highlighting.spans(TRANSCRIPT) == [] and highlighting.problem is not None


def test_a_find_given_the_journal_refuses_a_pathological_pattern_up_front(pipeline: Pipeline) -> None:
    """As the find bar can ask (it validates by making a Finder): the reason, not "not found"."""
    for pattern in (SLOW, EXPLOSIVE):
        with pytest.raises(QueryError, match="this pattern takes too long"):
            Finder(pattern, pipeline.journal)
    assert Finder("/turn \\d+ KITCHEN/", pipeline.journal).problem is None
    assert Finder("(\\w+\\s?)+\\d$", pipeline.journal).problem is None  # a plain text, no regex


def test_normal_patterns_keep_their_meaning(pipeline: Pipeline) -> None:
    view = LogView(pipeline.journal)
    view.rebuild()
    assert Finder("/TURN 7 KITCHEN/i").count(view) == 1
    assert Finder("/TURN 7 KITCHEN/").count(view) == 1  # find: /i unless flags are given
    assert Finder("/TURN 7 KITCHEN/s").count(view) == 0
    assert not any(Query("/TURN 7 KITCHEN/", pipeline.journal).match_index(i) for i in range(80))  # filter: as typed
    assert Finder("/turn \\d+ kitchen/").count(view) == 40
    assert Finder("/turn 1(\\d)? kitchen/").spans("turn 12 kitchen turn 1 kitchen") == [(0, 15), (16, 30)]
    assert Finder("kitchen").count(view) == 40
    assert Finder("Fox jumps").count(view) == 40 and Finder("fox.jumps").count(view) == 0  # no regex
    assert compile_pattern("a.b", "s").search("a\nb") and not compile_pattern("a.b", "").search("a\nb")
    assert compile_pattern("ABC", "i").search("xabcx") and not compile_pattern("ABC", "").search("xabcx")
    with pytest.raises(QueryError, match="bad regex"):
        compile_pattern("(", "")
    thirties = Query("/turn 3\\d kitchen/", pipeline.journal)
    assert sum(thirties.match_index(i) for i in range(len(pipeline.journal))) == 10
    matched = Query(r"transcript~kitchen$ /quick/", pipeline.journal)
    assert sum(matched.match_index(i) for i in range(len(pipeline.journal))) == 40 and matched.problem is None


async def test_the_filter_bar_refuses_a_pathological_pattern_and_a_normal_one_then_works() -> None:
    app = RtApp(Settings(playback=False), connect=False)
    async with app.run_test(size=(140, 40)) as pilot:
        app.ingest(_turns(40))
        await pilot.press("f", *"type:response.created", "enter")
        await wait_for(pilot, lambda: app.log_view.shown == 40, 5, "the first filter")
        await pilot.press("f", "ctrl+u", *SLOW, "enter")
        await wait_for(pilot, lambda: "this pattern takes too long" in filter_status(app), 5, "the refusal")
        assert app.filter_bar.active == "type:response.created"  # the filter in force stays
        assert app.log_view.shown == 40
        await pilot.press("ctrl+u", *"/turn 1\\d kitchen/", "enter")
        await wait_for(pilot, lambda: app.log_view.shown == 10, 5, "the normal filter")
        assert app.filter_bar.active == "/turn 1\\d kitchen/"
        assert "too long" not in filter_status(app)


async def test_the_find_bar_refuses_a_pathological_pattern_with_its_reason() -> None:
    """Helper: `/` with an explosive regex no longer froze the app, but the bar said the pattern
    was "not in the frames shown", as if it had looked."""

    app = RtApp(Settings(playback=False), connect=False)
    async with app.run_test(size=(140, 40)) as pilot:
        app.ingest(_turns(40))
        await pilot.press("slash", *EXPLOSIVE, "enter")
        await wait_for(pilot, lambda: "too long" in find_status(app), 5, "the refusal")
        assert "not in the" not in find_status(app)


@pytest.mark.parametrize("size", [(140, 40), (80, 24)])
async def test_a_filter_that_gives_up_on_a_later_frame_says_so_in_the_bar(size: tuple[int, int]) -> None:
    """Helper: a filter set before its long frames came passed the check on the (empty) journal,
    then gave up on them silently: the bar said `0 of 80 frames` as if nothing matched. Under 30
    rows the bar closes once the filter is applied: a notice says it (it went unseen)."""

    app = RtApp(Settings(playback=False), connect=False)
    async with app.run_test(size=size) as pilot:
        await pilot.press("f", *EXPLOSIVE, "enter")
        await wait_for(pilot, lambda: app.filter_bar.active == EXPLOSIVE, 5, "the filter")
        app.ingest(_turns(40))
        await wait_for(pilot, lambda: "later frames are not matched" in filter_status(app), 5, "the bar to say why")
        said = [message for title, message in notices(app) if title == "Filter"]
        assert app.filter_bar.display == (size != (80, 24))
        if app.filter_bar.display:
            assert not said, said  # the bar, open, says it
        else:
            assert len(said) == 1 and said[0].endswith("later frames are not matched; change the filter (f)"), said


async def test_a_find_that_finds_nothing_quotes_the_text_as_typed() -> None:
    """Helper: `repr` doubled a regex's backslashes in the bar: `'/(\\\\w+)/'` for `/(\\w+)/`."""

    app = RtApp(Settings(playback=False), connect=False)
    async with app.run_test(size=(140, 40)) as pilot:
        app.ingest(_turns(4))
        await pilot.press("slash", *r"/zebra\d/", "enter")
        await wait_for(pilot, lambda: "is not in the" in find_status(app), 5, "the find's verdict")
        assert "/zebra\\d/" in find_status(app) and "\\\\" not in find_status(app)


async def test_a_find_that_gives_up_on_an_older_frame_says_why() -> None:
    """Reviewer: a find accepted by the bar's check on the newest frames gave up on an older one and
    said the pattern was "not in the 60,003 frames shown", though a frame held it."""
    from tests.journal_helpers import connecting, received

    app = RtApp(Settings(playback=False), connect=False)
    async with app.run_test(size=(140, 40)) as pilot:
        done = "response.output_audio_transcript.done"
        old = received(done, item_id="item_old", transcript="word " * 3000 + "!x")
        hit = received(done, item_id="item_hit", transcript="great news!")
        new = [received("response.output_text.delta", delta="ok", item_id="i", response_id="r") for _ in range(60_000)]
        app.ingest([connecting(), old, hit, *new])
        await pilot.press("slash", *r"/(\w+\s?)+!\W*$/", "enter")
        await wait_for(pilot, lambda: "later frames are not searched" in find_status(app), 30, "the bar to say why")
        assert "is not in the" not in find_status(app)


async def test_typing_a_regex_into_the_filter_bar_does_not_probe_it_on_every_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Read-through: the bar checked what was typed on every key by building the query, whose
    regex is then tried on the newest frames for up to 50 ms: 50 ms of the UI thread per key at an
    hour's scale. The syntax is checked per key; the regex is tried on Enter."""
    from tui.journal.query import Query

    probes: list[str] = []
    original = Query._probe

    def counted(self: Query) -> None:
        probes.append(self.text)
        original(self)

    monkeypatch.setattr(Query, "_probe", counted)
    app = RtApp(Settings(playback=False), connect=False)
    async with app.run_test(size=(140, 40)) as pilot:
        app.ingest(_turns(40))
        await pilot.press("f", *"/turn 1\\d kitchen/ x")
        assert probes == []
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.filter_bar.active == "/turn 1\\d kitchen/ x", 5, "the filter")
        assert probes == ["/turn 1\\d kitchen/ x"]  # once: the bar's check on Enter, not again to apply it
