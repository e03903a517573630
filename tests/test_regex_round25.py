"""Round 25: a regex that is slow on every frame but never reaches the per-search timeout is
refused by the filter's first-screen probe, which lasts one such search.

The speed rule leaves the longest search out (the process may have been held off the CPU in it),
so one search proved nothing, and the 50 ms probe ended after it: on a machine where
/(\\w+\\s?)+\\d$/ took 90 ms a transcript (just under the 100 ms timeout), the filter bar took the
pattern, and the view built behind it crawled. A second run of a slow search now tells the
pattern from a preemption."""

from __future__ import annotations

import pytest

from tests.test_regex_round20 import SLOW, _turns
from tui.journal import Pipeline, Query, QueryError
from tui.journal import query as query_module


def test_a_pattern_slow_on_one_frame_is_refused_without_a_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(query_module, "SEARCH_TIMEOUT", 30.0)  # only the speed rule can refuse it
    pipeline = Pipeline()
    pipeline.ingest(_turns(40))
    with pytest.raises(QueryError, match=r"this pattern takes too long: .* reads frames at [\d,]+ KB/s"):
        Query(SLOW, pipeline.journal)


def test_a_sane_pattern_over_the_same_frames_passes() -> None:
    pipeline = Pipeline()
    pipeline.ingest(_turns(40))
    assert Query(r"/turn \d+ kitchen$/", pipeline.journal).problem is None
