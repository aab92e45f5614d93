"""Garbage in: every bad file gives exit 1 and a located, rule-named message, never a traceback;
plus a Hypothesis fuzz of the strict parser."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from frontend_helpers import real_doc, run_validate
from hypothesis import given, settings
from hypothesis import strategies as st

from apirpc_compiler.diagnostics import IdlError
from apirpc_compiler.frontend.jsonpos import JsonParseError, parse_json
from apirpc_compiler.frontend.load import load_idl, parse_idl_text

GOOD = json.dumps(real_doc(), indent=2).encode()

# name -> (bytes, rule, line:col)
GARBAGE: dict[str, tuple[bytes, str, str]] = {
    "empty": (b"", "file-empty", "1:1"),
    "whitespace": (b"  \n\t\n", "file-empty", "1:1"),
    "binary": (b"\x00\x01\x02\xff\xfe", "utf8-invalid", "1:4"),
    "bom": (b"\xef\xbb\xbf" + GOOD, "utf8-bom", "1:1"),
    "non_utf8_later": (b'{\n  "idl": 1,\n  "doc": "caf\xe9"\n}', "utf8-invalid", "3:14"),
    "truncated": (GOOD[: len(GOOD) // 2], "json-syntax", ""),
    "trailing_garbage": (b'{"idl": 1}\n  xyz', "json-syntax", "2:3"),
    "duplicate_keys": (b'{\n  "idl": 1,\n  "idl": 1\n}', "json-duplicate-key", "3:3"),
    "nan": (b'{"idl": NaN}', "json-nan", "1:9"),
    "infinity": (b'{"idl": -Infinity}', "json-nan", "1:9"),
    "array_top": (b"[1, 2]", "top-level-not-object", "1:1"),
    "string_top": (b'  "idl"', "top-level-not-object", "1:3"),
    "lone_surrogate": (b'{"doc": "\\ud800x"}', "json-string", "1:10"),
    "control_char": (b'{"doc": "a\tb"}', "json-string", "1:11"),
    "trailing_comma": (b'{"idl": 1,}', "json-syntax", "1:11"),
    "single_quotes": (b"{'idl': 1}", "json-syntax", "1:2"),
    "deep": (b"[" * 100_000, "json-too-deep", "1:65"),
    "deep_objects": (b'{"a":' * 100_000, "json-too-deep", ""),
}


@pytest.mark.parametrize("name", sorted(GARBAGE))
def test_garbage_is_a_located_error(tmp_path: Path, name: str) -> None:
    data, rule, where = GARBAGE[name]
    path = tmp_path / "bad.json"
    path.write_bytes(data)
    start = time.perf_counter()
    run = run_validate(path)
    assert time.perf_counter() - start < 5
    assert run.code == 1, run.output
    assert "Traceback" not in run.output
    assert f"[{rule}]" in run.output, run.output
    assert f"{path}:{where}" in run.output if where else f"{path}:" in run.output
    assert "hint:" in run.output or rule == "json-syntax"


def test_truncated_json_says_what_was_expected(tmp_path: Path) -> None:
    path = tmp_path / "t.json"
    path.write_bytes(b'{\n  "idl": 1,\n  "package": ')
    run = run_validate(path)
    assert "t.json:3:14: error: [json-syntax] unexpected end of the file: expected a value" in run.output


def test_non_utf8_names_the_byte_offset(tmp_path: Path) -> None:
    path = tmp_path / "u.json"
    path.write_bytes(b'{"doc": "\xc3\x28"}')
    run = run_validate(path)
    assert "byte offset 9" in run.output


def test_too_large_file_is_refused_without_parsing(tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    with open(path, "wb") as f:
        f.write(b'{"doc": "' + b"x" * (20 * 1024 * 1024) + b'"}')
    start = time.perf_counter()
    run = run_validate(path)
    assert time.perf_counter() - start < 5
    assert run.code == 1
    assert "[file-too-large]" in run.output
    assert f"{path}:1:1" in run.output


def test_missing_file(tmp_path: Path) -> None:
    run = run_validate(tmp_path / "nope.json")
    assert run.code == 1
    assert "[file-missing]" in run.output


def test_directory_and_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(IdlError) as e:
        load_idl(str(tmp_path))
    assert e.value.diagnostics[0].rule == "file-unreadable"
    if os.geteuid() == 0:
        return  # root reads everything; the permission case cannot be produced
    path = tmp_path / "locked.json"
    path.write_bytes(GOOD)
    path.chmod(0)
    with pytest.raises(IdlError) as e:
        load_idl(str(path))
    assert e.value.diagnostics[0].rule == "file-unreadable"


def test_subprocess_prints_no_traceback(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_bytes(b"[" * 100_000)
    proc = subprocess.run(
        [sys.executable, "-m", "apirpc_compiler", "validate", str(path)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr + proc.stdout
    assert "[json-too-deep]" in proc.stderr


def test_source_map_locates_values_and_keys() -> None:
    text = '{\n  "a": [10, {"b/c": true}],\n  "~x": null\n}'
    _, smap = parse_idl_text("m.json", text.encode())
    assert smap.locate("") == (1, 1)
    assert smap.locate("/a") == (2, 3)  # the key
    assert smap.locate_value("/a") == (2, 8)
    assert smap.locate("/a/0") == (2, 9)
    assert smap.locate("/a/1/b~1c") == (2, 14)
    assert smap.locate("/~0x") == (3, 3)
    assert smap.locate("/a/1/missing/deeper") == (2, 13)  # nearest ancestor


# ---- fuzz ----

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(exclude_categories=["Cs"])),
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(st.text(st.characters(exclude_categories=["Cs"]), max_size=5), children, max_size=5)
    ),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(json_values, st.booleans(), st.sampled_from([None, 0, 2]))
def test_parser_matches_json_loads_on_valid_text(value: Any, ascii_only: bool, indent: int | None) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only, indent=indent)
    assert parse_json(text).value == json.loads(text)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_only_raise_idl_error(data: bytes) -> None:
    try:
        parse_idl_text("f.json", data)
    except IdlError as e:
        assert e.diagnostics and all(d.line >= 1 and d.col >= 1 for d in e.diagnostics)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet='{}[]:,"\\ truefalsn0123456789.eE+-u\n\tabc\x00\ud800', max_size=80))
def test_random_json_like_text_only_raises_parse_errors(text: str) -> None:
    try:
        parsed = parse_json(text)
    except JsonParseError as e:
        assert e.errors
        return
    # Whatever the strict parser accepts, json.loads accepts with the same meaning.
    assert parsed.value == json.loads(text)
