"""The plan against an independent implementation, exhaustively around every vector.

For every struct and stream case of moqt_d14.json and envelope.json, every prefix of its bytes,
every single byte flipped in five ways and one byte appended are decoded twice: by the plan's
reference interpreter (plan_interp.py) and by the generated Python SDK, whose wire code was
written before the plan existed. Both must agree on the outcome: the same value, or the same
decode error reason (and, for structs, the same offset). Nothing may fail in any other way.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apirpc_compiler.pipeline import compile_idl

from .plan_interp import Codec, DecodeFailure

ROOT = Path(__file__).resolve().parents[2]
VECTORS = ROOT / "tests" / "vectors"
MASKS = (0x01, 0x40, 0xFF)

pytest.importorskip("clutchcall.wire")


def _variants(data: bytes) -> Iterator[bytes]:
    for n in range(len(data)):
        yield data[:n]
    for i in range(len(data)):
        for mask in MASKS:
            yield data[:i] + bytes([data[i] ^ mask]) + data[i + 1 :]
    yield data + b"\x00"


def _outcome(failure: type[Exception], run: Callable[..., Any], *args: Any, **kwargs: Any) -> tuple[str, Any]:
    try:
        return ("ok", run(*args, **kwargs))
    except failure as e:
        return ("error", (getattr(e, "reason", None), getattr(e, "offset", None)))


def _sdk_struct(cls: Any, data: bytes, kwargs: dict[str, bool]) -> Any:
    return cls.decode(data, **kwargs).to_json()


def _sdk_stream(module: Any, stream: str, kind: str, data: bytes) -> list[tuple[str, Any]]:
    if kind == "datagram":
        msg = getattr(module, f"decode_{stream}")(data)
        return [(type(msg).__name__, msg.to_json())]
    parser = getattr(module, stream.capitalize() + "Parser")()
    items = parser.feed(data)
    parser.close()
    out = []
    for item in items:
        msg = item[1] if isinstance(item, tuple) else item
        out.append((type(msg).__name__, msg.to_json()))
    return out


_IR: Any = compile_idl(str(ROOT / "api" / "clutchcall.json"))
_CODECS = {p["name"]: Codec(p) for p in _IR["plan"]["protocols"]}


@pytest.fixture(scope="module")
def codecs() -> dict[str, Codec]:
    return _CODECS


@pytest.mark.parametrize("file", ["envelope.json", "moqt_d14.json"])
def test_interpreter_and_python_sdk_agree_around_every_vector(codecs: dict[str, Codec], file: str) -> None:
    doc = json.loads((VECTORS / file).read_text(encoding="utf-8"))
    codec = codecs[doc["protocol"]]
    module = __import__(f"clutchcall.wire.{doc['protocol']}", fromlist=["_"])
    # The error class of the package imported now: another test's fixture may have swapped
    # `clutchcall` for a freshly generated copy since this file was collected.
    sdk_error = module.DecodeError
    checked = 0
    disagreements: list[str] = []
    for case in doc["cases"]:
        data = bytes.fromhex(case["hex"])
        for mutated in _variants(data):
            if "struct" in case:
                name = case["struct"]
                args = [bool(case.get("args", {})[a]) for a in codec.structs[name]["args"]]
                kwargs = {a: case["args"][a] for a in codec.structs[name]["args"]}
                ours = _outcome(DecodeFailure, codec.decode_whole, name, mutated, args)
                theirs = _outcome(sdk_error, _sdk_struct, getattr(module, name), mutated, kwargs)
            else:
                stream = case["stream"]
                kind = codec.streams[stream]["kind"]
                ours = _outcome(DecodeFailure, codec.decode_stream, stream, mutated)
                theirs = _outcome(sdk_error, _sdk_stream, module, stream, kind, mutated)
                # Stream errors: the reason must agree; offsets depend on the parser's buffering.
                ours = ours if ours[0] == "ok" else ("error", ours[1][0])
                theirs = theirs if theirs[0] == "ok" else ("error", theirs[1][0])
            checked += 1
            if ours != theirs:
                disagreements.append(f"{case['name']} {mutated.hex()}: plan {ours} sdk {theirs}")
    assert checked > 1000
    assert not disagreements, disagreements[:20]


@settings(max_examples=150, deadline=None, derandomize=True)
@given(seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_random_values_encode_like_the_reference_encoder(seed: int) -> None:
    """Random values of every struct (tests/conformance/wire_values.py draws them from the IR and
    encodes them by a direct reading of the DSL): the plan encodes the same bytes and decodes
    them back to the value."""
    from conformance.wire_values import WireModel  # tests/ is on the path, as for every test package

    rng = random.Random(seed)
    for protocol in _IR["wire"]:
        model = WireModel(protocol)
        codec = _CODECS[protocol["name"]]
        for struct in protocol["structs"]:
            args = {a: rng.random() < 0.5 for a in struct["args"]}
            value = model.generate(struct["name"], rng, args)
            flags = [args[a] for a in struct["args"]]
            raw = model.encode(struct["name"], value, args)
            assert codec.encode_whole(struct["name"], value, flags) == raw, (struct["name"], value)
            assert codec.decode_whole(struct["name"], raw, flags) == value, (struct["name"], raw.hex())
