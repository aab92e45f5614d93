"""diagnostics.pointer / pointer_tokens: the one RFC 6901 spelling every part of the compiler locates with."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from apirpc_compiler.diagnostics import pointer, pointer_tokens


def test_rfc6901_examples() -> None:
    # RFC 6901 section 5's document keys "a/b", "m~n" and "" (plus an index as an int).
    assert pointer("a/b") == "/a~1b"
    assert pointer("m~n") == "/m~0n"
    assert pointer("") == "/"
    assert pointer("messages", "Call", "fields", 3) == "/messages/Call/fields/3"
    assert pointer() == ""
    assert pointer("~1") == "/~01"  # escaped in the order that keeps "~1" a literal
    assert pointer_tokens("/~01") == ["~1"]


@given(st.lists(st.text(alphabet="~/01a", max_size=6), max_size=5))
def test_tokens_round_trip(tokens: list[str]) -> None:
    assert pointer_tokens(pointer(*tokens)) == tokens
