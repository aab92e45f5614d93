"""The generated C++ codecs through the pybind11 module and the C ABI (cffi), on the golden
vectors of tests/vectors: both decode every positive case to the same value and re-encode it to
the vector's bytes; both reject every negative case with the vector's reason; stream cases parse
identically whole and byte by byte."""

from __future__ import annotations

import json
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

VECTORS = Path(__file__).resolve().parents[2] / "tests" / "vectors"


def cases(protocol: str) -> list[dict[str, Any]]:
    data: dict[str, Any] = json.loads((VECTORS / f"{protocol}.json").read_text())
    return list(data["cases"])


def need(core: ModuleType) -> None:
    if "codec" not in core.components:
        pytest.skip("the codec component is not built (no generated/cpp package)")


def arg_list(case: dict[str, Any]) -> list[bool]:
    return list(case.get("args", {}).values())  # declared order (the vectors keep it)


@pytest.mark.parametrize("protocol", ["moqt_d14", "envelope"])
def test_structs_agree_with_vectors(core: ModuleType, ffi: ModuleType, protocol: str) -> None:
    need(core)
    checked = 0
    for case in cases(protocol):
        if "struct" not in case:
            continue
        name, data, args = f"{protocol}.{case['struct']}", bytes.fromhex(case["hex"]), arg_list(case)
        if "error" in case:
            with pytest.raises(ValueError, match=f"^codec: {case['error']}"):
                core.codec.decode_struct(name, data, args)
            with pytest.raises(ffi.FfiError) as info:
                ffi.codec_decode_struct(name, data, args)
            assert info.value.name == case["error"], case["name"]
        else:
            a, b = core.codec.decode_struct(name, data, args), ffi.codec_decode_struct(name, data, args)
            assert a == b, case["name"]
            if not case.get("decode_only"):
                assert core.codec.encode_struct(name, a, args) == data, case["name"]
                assert ffi.codec_encode_struct(name, b, args) == data, case["name"]
        checked += 1
    assert checked > 20


def test_streams_agree_whole_and_chunked(core: ModuleType, ffi: ModuleType) -> None:
    need(core)
    checked = 0
    for case in cases("moqt_d14"):
        if "stream" not in case:
            continue
        stream, data = f"moqt_d14.{case['stream']}", bytes.fromhex(case["hex"])
        if "error" in case:
            with pytest.raises(ValueError, match=f"^codec: {case['error']}"):
                core.codec.parse_stream(stream, data)
            with pytest.raises(ffi.FfiError) as info:
                ffi.codec_parse_stream(stream, data, 1)
            assert info.value.name == case["error"], case["name"]
        else:
            whole = core.codec.parse_stream(stream, data)
            assert whole == core.codec.parse_stream(stream, data, 1) == ffi.codec_parse_stream(stream, data, 3)
            expected = len(case.get("messages", [])) + len(case.get("objects", []))
            expected += int("header" in case) + int("message" in case)
            assert len(whole) == expected, case["name"]
            assert all({"struct", "value"} <= set(item) for item in whole)
        checked += 1
    assert checked > 5


def test_dto_messages_agree(core: ModuleType, ffi: ModuleType) -> None:
    need(core)
    names = set(core.codec.message_names())
    checked = 0
    for case in cases("dto"):
        if "error" in case or case.get("type") not in names:
            continue
        data = bytes.fromhex(case["hex"])
        text_a = core.codec.message_to_json(case["type"], data)
        assert text_a == ffi.codec_message_to_json(case["type"], data), case["name"]
        assert core.codec.message_from_json(case["type"], text_a) == ffi.codec_message_from_json(case["type"], text_a)
        checked += 1
    assert checked > 10


def test_unknown_names(core: ModuleType, ffi: ModuleType) -> None:
    need(core)
    with pytest.raises(ValueError, match=r"unknown wire stream 'moqt_d14\.nope'"):
        core.codec.parse_stream("moqt_d14.nope", b"")
    with pytest.raises(ffi.FfiError, match="unknown_name"):
        ffi.codec_parse_stream("moqt_d14.nope", b"")
    with pytest.raises(ValueError, match="unknown message"):
        core.codec.message_to_json("Nope", b"")


def test_abi_reports_a_missing_codec(core: ModuleType, ffi: ModuleType) -> None:
    """Without the generated package the ABI keeps its symbols and answers `unsupported`."""
    if "codec" in core.components:
        pytest.skip("the codec component is built")
    assert not ffi.has("codec")
    with pytest.raises(ffi.FfiError, match="unsupported"):
        ffi.codec_parse_stream("moqt_d14.control", b"")
