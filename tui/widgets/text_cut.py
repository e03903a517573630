"""Text cut to a width without cutting a number in two.

A number cut short reads as another number: `client closed with 40…` for 4000, `over 38…` for
380ms, `#71…` for frame #7174. A cut that falls inside such a word takes the whole word out
instead (the ellipsis says something was there), unless it is the text's first word.
"""

from __future__ import annotations

import re

from rich.cells import cell_len, set_cell_size

NUMBER = re.compile(r"[#+×]?[\d.:/,-]*\d[\d.:/,-]*(?:[a-zA-Zµ%]{1,3})?")
"""A word that is a number or made of numbers: a close code (`4000:`), an address and port, a size,
a duration with its unit (`380ms`, `1.00s`), a frame's number (`#7174`), a count (`×20`)."""


def end_cut(text: str, cells: int) -> str:
    """`text` cut to `cells` cells, an ellipsis for what was cut; never inside a number (see the
    module doc), nor inside an address in a longer word (`ws://12…` for 127.0.0.1): that word goes
    whole, unless it is the first. An id's digits may be cut (`sess_0000…`): it reads as cut."""
    if text.isascii():  # one cell a character (the log's summaries, nearly always): slices
        if len(text) <= cells:
            return text
        kept = text[: max(0, cells - 1)]
    elif cell_len(text) <= cells:
        return text
    else:
        kept = set_cell_size(text, cells - 1)
    start = kept.rfind(" ") + 1
    if start and not kept[-1].isspace() and not text[len(kept)].isspace():
        end = text.find(" ", len(kept))
        word = text[start : end if end >= 0 else len(text)].rstrip(".:/,-;)]")  # `4000:` is whole as `4000`
        inside = len(kept) - start < len(word)
        if inside and (NUMBER.fullmatch(word) or _in_address(text, len(kept))):
            kept = kept[:start].rstrip()
    return _without_dangling(text, kept) + "…"


_UNIT_FOLLOWS = re.compile(r" +[^\W\d_]")
"""After a number: a word (its unit, what it counts) follows."""


def _without_dangling(text: str, kept: str) -> str:
    """`kept` (the start of `text`) without a count whose unit was cut away, right after a ` · `
    (`completed · 1…` for `· 1 item`: a count of nothing, or a number cut short): `completed ·…`,
    as a cut after any separator reads. Elsewhere a number is what the words before it name (`code
    1011…`, `status 429…`, `closed with 4000…`): it stays."""
    trimmed = kept.rstrip()
    start = trimmed.rfind(" ") + 1
    word = trimmed[start:]
    if (
        trimmed[:start].endswith("· ")
        and word[-1:].isalnum()
        and NUMBER.fullmatch(word)
        and _UNIT_FOLLOWS.match(text, len(trimmed))
    ):
        return trimmed[:start].rstrip()
    return kept  # a space before the ellipsis stays: `429 …` is whole, where `429…` reads as cut short


def _in_address(text: str, cut: int) -> bool:
    """Whether position `cut` falls between two digits of a dotted or colon-joined run of numbers
    (`127.0.0.1:9`, `12.75`) that does not continue a name (`item_12.3` is an id's)."""
    if not (cut and cut < len(text) and text[cut - 1].isdigit() and text[cut].isdigit()):
        return False
    start = cut
    while start and (text[start - 1].isdigit() or text[start - 1] in ".:"):
        start -= 1
    end = cut
    while end < len(text) and (text[end].isdigit() or text[end] in ".:"):
        end += 1
    run = text[start:end].strip(".:")
    before = text[start - 1] if start else " "
    return ("." in run or ":" in run) and not (before.isalnum() or before == "_")
