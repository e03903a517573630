"""The app's garbage-collection policy: the start-up heap frozen, full collections rare.

A full (oldest-generation) collection walks every tracked object, and the UI loop waits for it.
Two things made them cost a key press:

- Textual's start-up heap (modules, widgets, styles): a full collection took 50-80 ms, twice a
  second under 2,000 frames/s. `gc.freeze()` after the first paint exempts it until the app ends.
- What a stream keeps for a while and then lets go (parsed frames of the journal's recent window,
  rendered lines in the views' caches) outlives the young generations, so CPython counts it as
  new long-lived objects, and runs a full collection whenever those reach a quarter of the rest:
  every 1.6 s at 2,000 frames/s, 40-90 ms each, growing with the session (measured with
  `gc.callbacks` in the real binary against `tests/bench_wsserver.py`'s mix, 45 s: 18 full
  collections, 948 ms, the longest 88 ms). Those objects are freed by their reference counts as
  they leave; a full collection only finds cycles, of which a stream makes few (~300 objects a
  second). So a full collection waits for `FULL_COLLECTION_AFTER` collections of the middle
  generation (~4 minutes at that rate) instead of CPython's 10; the young generations are
  collected as before (they stay short: ≤ 10 ms).
"""

from __future__ import annotations

import gc

FULL_COLLECTION_AFTER = 1000
"""Middle-generation collections between two full ones (CPython's default: 10)."""

_saved_threshold: tuple[int, int, int] | None = None


def settle_heap() -> None:
    """Exempt every object alive now from cyclic garbage collection until `release_heap`, and make
    full collections rare (see the module doc). Frozen objects are still freed when their
    reference count drops; cycles among them wait for the release. O(1): it moves lists of
    objects, it walks none. Called again (after the audio stack loads) it freezes what came since."""
    global _saved_threshold
    gc.freeze()
    if _saved_threshold is None:
        _saved_threshold = gc.get_threshold()
        young, middle, _oldest = _saved_threshold
        gc.set_threshold(young, middle, FULL_COLLECTION_AFTER)


def release_heap() -> None:
    """Undo `settle_heap`: what it froze is collectable again, the thresholds are CPython's (another
    app may follow in this process: a test run)."""
    global _saved_threshold
    gc.unfreeze()
    if _saved_threshold is not None:
        gc.set_threshold(*_saved_threshold)
        _saved_threshold = None
