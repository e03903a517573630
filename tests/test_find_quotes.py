"""A find in quotes is a phrase, as in the filter: the find bar's help offers `"phrase"`, and a
quoted find found nothing (it searched for the quotes too)."""

from __future__ import annotations

from tests.journal_helpers import received
from tui.journal import Finder, LogView, Pipeline


def view_of_texts(*texts: str) -> LogView:
    pipeline = Pipeline()
    pipeline.ingest([received("response.output_text.done", item_id=f"item_{n}", text=t) for n, t in enumerate(texts)])
    view = LogView(pipeline.journal)
    view.catch_up()
    return view


def test_a_phrase_in_quotes_is_found_as_the_phrase() -> None:
    view = view_of_texts("a long story short", "a story, long ago", "the long  story")
    assert Finder('"long story"').hits(view) == [0]
    assert Finder("long story").hits(view) == [0]
    assert Finder('"long story"').spans("tell a Long Story") == [(7, 17)]  # its highlight: the words only


def test_text_with_other_quotes_is_found_as_typed_and_quotes_keep_a_path_from_being_a_regex() -> None:
    view = view_of_texts("say hi", 'say "hi" twice', "/kit/ and kit")
    assert Finder('"hi" twice').hits(view) == [1]  # quotes inside: JSON-ish text as it is typed
    assert Finder('"/kit/"').hits(view) == [2]  # a literal path, not the regex /kit/
    assert Finder("/kit/").hits(view) == [2]  # the regex finds kit in "and kit" too
    assert Finder('""').hits(view) == []  # two quotes alone: found as typed (the JSON's empty strings)


def test_a_quoted_phrase_not_found_is_said_in_its_own_quotes() -> None:
    from tui.widgets.log_format import find_miss

    view = view_of_texts("the kitchen lights")
    finder = Finder('"lights kitchen"')
    assert finder.hits(view) == []
    assert find_miss(finder, 1) == '"lights kitchen" is not in the 1 frame shown'
    assert find_miss(Finder("zebra"), 2) == "'zebra' is not in the 2 frames shown"
