"""common.line_doc / block_doc: the two doc-comment shapes every backend builds on keep to the width and
lose no word."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from apirpc_compiler.backends.common import block_doc, line_doc

words = st.lists(st.text(alphabet="abcxyz.", min_size=1, max_size=12), max_size=40)


@given(words, st.integers(0, 12), st.sampled_from(["//", "///"]))
def test_line_doc_fits_and_keeps_the_words(ws: list[str], indent: int, lead: str) -> None:
    pad = " " * indent
    lines = line_doc(" ".join(ws), 60, pad, lead)
    assert all(len(x) <= 60 and x.startswith(pad + lead + " ") for x in lines)
    assert " ".join(x[len(pad) + len(lead) + 1 :] for x in lines).split() == ws


@given(words, st.integers(0, 12))
def test_block_doc_fits_and_keeps_the_words(ws: list[str], indent: int) -> None:
    pad = " " * indent
    lines = block_doc(" ".join(ws), 60, pad)
    assert all(len(x) <= 60 for x in lines)
    if not ws:
        assert lines == []
    elif len(lines) == 1:
        assert lines[0] == f"{pad}/** {' '.join(ws)} */"
    else:
        assert lines[0] == pad + "/**" and lines[-1] == pad + " */"
        assert " ".join(x[len(pad) + 3 :] for x in lines[1:-1]).split() == ws
