"""Property tests of `tui.protocol.parse`: whatever arrives, it returns a usable frame or raises FrameError.

Inputs: random bytes, random text (lone surrogates included), and random JSON text built to hit the
hard cases: deep nesting, integers around CPython's 4,300-digit limit, lone surrogate escapes,
NaN/Infinity and overflowing floats, non-object documents, and valid frames with random edits. The
number of examples comes from the hypothesis profile (tests/conftest.py; `make fuzz` runs 100,000).
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tui.protocol import FrameError, parse, redact, serialize
from tui.protocol.codec import MAX_DEPTH
from tui.protocol.summary import summarize_event as summarize

# Every code point, lone surrogates included (hypothesis leaves them out unless told).
ANY_CHAR = st.characters(codec=None, exclude_categories=())


def depth_of(value: Any) -> int:
    """Nesting depth, counting the outermost container as 1 (iterative: values may be deep)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict | list):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in (node.values() if isinstance(node, dict) else node))
    return deepest


def outcome(raw: str | bytes) -> dict[str, Any] | None:
    """Parse `raw`; check the promise either way; return the frame, or None for a FrameError."""
    try:
        data = parse(raw)
    except FrameError as exc:
        assert str(exc) and "\n" not in str(exc), "a FrameError's reason is one non-empty line"
        return None
    # Any other exception escapes and fails the test: that is the property.
    assert isinstance(data, dict) and isinstance(data["type"], str)
    assert depth_of(data) <= MAX_DEPTH
    serialize(data).encode("utf-8")  # every string can be written (capture, send --json) ...
    redact(data)  # ... and shown (detail view, event log)
    summarize(data).encode("utf-8")
    return data


# -- JSON text with the hard cases -----------------------------------------------------------

_HARD_NUMBERS = st.one_of(
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999", "-1e999", "1E-999", "-0", "0.0e0"]),
    st.integers(4250, 4350).map(lambda n: "9" * n),  # around sys.get_int_max_str_digits()
    st.integers(4250, 4350).map(lambda n: "-1" + "0" * n + ".5"),  # long, but a float
)
_ESCAPES = st.sampled_from(["\\ud800", "\\udfff", "\\uDBFF", "\\uDc00", "\\ud83d\\ude00", "\\\\ud800", "\\u00e9", "a"])
_STRINGS = st.one_of(
    st.text(ANY_CHAR, max_size=12).map(json.dumps),  # surrogates escaped, as `ensure_ascii` does
    st.text(ANY_CHAR, max_size=12).map(lambda s: json.dumps(s, ensure_ascii=False)),  # surrogates raw
    st.lists(_ESCAPES, max_size=6).map(lambda parts: '"' + "".join(parts) + '"'),
)
_SCALARS = st.one_of(
    st.sampled_from(["null", "true", "false"]),
    st.integers().map(str),
    st.floats().map(lambda x: json.dumps(x)),
    _HARD_NUMBERS,
    _STRINGS,
)


def _containers(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    arrays = st.lists(children, max_size=4).map(lambda xs: "[" + ",".join(xs) + "]")
    objects = st.lists(st.tuples(_STRINGS, children), max_size=4).map(
        lambda pairs: "{" + ",".join(f"{k}:{v}" for k, v in pairs) + "}"
    )
    return arrays | objects


_VALUES = st.recursive(_SCALARS, _containers, max_leaves=12)


def _nested(leaf: st.SearchStrategy[str]) -> st.SearchStrategy[tuple[str, int]]:
    """`(text, depth)`: `leaf` inside `depth` containers, arrays and objects mixed, around the limit
    and far past it."""

    @st.composite
    def build(draw: st.DrawFn) -> tuple[str, int]:
        depth = draw(st.one_of(st.integers(MAX_DEPTH - 3, MAX_DEPTH + 3), st.integers(1, 5000)))
        kinds = draw(st.lists(st.booleans(), min_size=1, max_size=8))
        opens = ['{"k":' if kinds[i % len(kinds)] else "[" for i in range(depth)]
        closes = ["}" if kinds[i % len(kinds)] else "]" for i in reversed(range(depth))]
        return "".join(opens) + draw(leaf) + "".join(closes), depth

    return build()


_DEEP = _nested(_SCALARS).map(lambda built: built[0])


@st.composite
def _frames(draw: st.DrawFn) -> str:
    """A frame: a `type` (usually a string) and fields of hard values, maybe nested deep."""
    fields = draw(st.lists(st.tuples(_STRINGS, _VALUES | _DEEP), max_size=5))
    type_value = draw(st.one_of(_STRINGS, _STRINGS, _VALUES))
    pairs = draw(st.permutations([('"type"', type_value), *fields]))
    return "{" + ",".join(f"{k}:{v}" for k, v in pairs) + "}"


@st.composite
def _edited(draw: st.DrawFn) -> str:
    """A frame with a few random characters inserted, deleted or replaced."""
    text = draw(_frames())
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(text)))
        cut = draw(st.integers(0, 3))
        text = text[:at] + draw(st.text(ANY_CHAR, max_size=3)) + text[at + cut :]
    return text


JSON_TEXT = st.one_of(_frames(), _edited(), _VALUES, _DEEP)


# -- properties ------------------------------------------------------------------------------


@given(st.binary(max_size=300))
def test_bytes_are_a_frame_error_or_as_text_parse_cleanly(raw: bytes) -> None:
    assert outcome(raw) is None  # a binary frame, always refused
    outcome(raw.decode("utf-8", "surrogateescape"))  # invalid UTF-8 becomes lone surrogates
    outcome(raw.decode("latin-1"))


@given(st.text(ANY_CHAR, max_size=300))
def test_any_text_gives_a_frame_or_a_frame_error(raw: str) -> None:
    outcome(raw)
    outcome('{"type":"x","t":' + raw + "}")


@given(JSON_TEXT)
def test_hostile_json_gives_a_frame_or_a_frame_error(raw: str) -> None:
    outcome(raw)


@given(_nested(st.sampled_from(["1", '"v"', "null"])), st.sampled_from(["", "[]", '{"a":1}']))
def test_depth_alone_decides_whether_a_deep_frame_parses(built: tuple[str, int], sibling: str) -> None:
    value, depth = built
    # The frame is one level, `value` adds `depth`; a sibling of the same depth or less changes nothing.
    data = outcome('{"type":"x",' + (f'"s":{sibling},' if sibling else "") + '"v":' + value + "}")
    assert (data is not None) == (1 + depth <= MAX_DEPTH)


_PLAIN_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4),
    max_leaves=25,
)


@given(st.text(), st.dictionaries(st.text(), _PLAIN_JSON, max_size=6), st.booleans())
def test_a_valid_frame_parses_to_exactly_what_was_sent(event_type: str, fields: dict[str, Any], ascii: bool) -> None:
    frame = {**fields, "type": event_type}
    assert parse(json.dumps(frame, ensure_ascii=ascii)) == frame
