"""Untrusted bytes never make the generated wire codecs raise anything but DecodeError.

Every struct decoder and every stream parser gets: every prefix of every golden vector,
byte mutations of every vector, and hypothesis-generated random bytes (also appended to valid
vector bytes). Whatever they return must re-encode to bytes that decode to the same value.
"""

from __future__ import annotations

import importlib
import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apirpc_compiler.ir.model import IR, WireProtocol
from apirpc_compiler.ir.naming import pascal, snake

VECTORS = Path(__file__).resolve().parents[1] / "vectors"
PROTOCOLS = ("envelope", "moqt_d14")


def _cases(proto: str) -> list[dict[str, Any]]:
    return list(json.loads((VECTORS / f"{proto}.json").read_text(encoding="utf-8"))["cases"])


class Target:
    """One decoder under test: a struct (with each combination of its args) or a stream."""

    def __init__(self, label: str, run: Any) -> None:
        self.label = label
        self.run = run


def _targets(ir: IR) -> dict[str, list[Target]]:
    """protocol name -> decoders keyed by the struct or stream name they serve."""
    errors = importlib.import_module("clutchcall.errors")
    out: dict[str, list[Target]] = {}
    for p in ir["wire"]:
        mod = importlib.import_module(f"clutchcall.wire.{p['name']}")
        out[p["name"]] = _proto_targets(p, mod, errors)
    return out


def _proto_targets(p: WireProtocol, mod: Any, errors: Any) -> list[Target]:
    targets: list[Target] = []
    for s in p["structs"]:
        cls = getattr(mod, pascal(s["words"]))
        for combo in itertools.product([False, True], repeat=len(s["args"])):
            args = dict(zip([snake(a.split("_")) for a in s["args"]], combo, strict=True))

            def run(data: bytes, cls: Any = cls, args: dict[str, bool] = args) -> None:
                value = cls.decode(data, **args)
                # A value that decoded must survive encode -> decode (non-minimal varints may
                # change the bytes, never the value) and its JSON form.
                again = cls.decode(value.encode(**args), **args)
                assert again == value
                assert cls.from_json(value.to_json()) == value

            targets.append(Target(f"{s['name']}{args}", run))
    for stream in p["streams"]:
        name = snake(stream["words"])
        if stream["kind"] == "datagram":
            decode = getattr(mod, f"decode_{name}")
            targets.append(Target(stream["name"], lambda data, decode=decode: decode(data)))
            continue
        parser_cls = getattr(mod, pascal([*stream["words"], "parser"]))

        def feed(data: bytes, parser_cls: Any = parser_cls) -> None:
            whole = parser_cls()
            items = whole.feed(data)
            whole.close()
            bytewise = parser_cls()
            got: list[Any] = []
            for i in range(len(data)):
                got += bytewise.feed(data[i : i + 1])
            bytewise.close()
            assert got == items

        targets.append(Target(stream["name"], feed))
    return targets


@pytest.fixture(scope="module")
def targets(python_sdk: Path, ir: IR) -> dict[str, list[Target]]:
    return _targets(ir)


@pytest.fixture(scope="module")
def decode_error(python_sdk: Path) -> type[Exception]:
    errors = importlib.import_module("clutchcall.errors")
    cls: type[Exception] = errors.DecodeError
    return cls


def _check(target: Target, data: bytes, decode_error: type[Exception]) -> None:
    try:
        target.run(data)
    except decode_error as e:
        assert isinstance(e.reason, str) and e.reason, target.label  # type: ignore[attr-defined]


def _matching(targets: list[Target], case: dict[str, Any]) -> list[Target]:
    key = case.get("struct") or case.get("stream")
    return [t for t in targets if t.label == key or t.label.startswith(f"{key}{{")]


@pytest.mark.parametrize("proto", PROTOCOLS)
def test_prefixes_and_mutations_of_every_vector(
    targets: dict[str, list[Target]], decode_error: type[Exception], proto: str
) -> None:
    checked = 0
    for case in _cases(proto):
        data = bytes.fromhex(case["hex"])
        for t in _matching(targets[proto], case):
            for cut in range(len(data)):
                _check(t, data[:cut], decode_error)
            for i in range(min(len(data), 48)):
                for flip in (0x00, 0xFF, data[i] ^ 0x40, data[i] ^ 0x80, data[i] ^ 0x01):
                    _check(t, data[:i] + bytes([flip]) + data[i + 1 :], decode_error)
            _check(t, data + b"\x00", decode_error)
            checked += 1
    assert checked >= 50


@pytest.mark.parametrize("proto", PROTOCOLS)
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=96), pick=st.integers(min_value=0))
def test_random_bytes(
    targets: dict[str, list[Target]], decode_error: type[Exception], proto: str, data: bytes, pick: int
) -> None:
    for t in targets[proto]:
        _check(t, data, decode_error)
    # Random tails behind valid bytes reach the deeper states of the stream parsers.
    cases = _cases(proto)
    case = cases[pick % len(cases)]
    for t in _matching(targets[proto], case):
        _check(t, bytes.fromhex(case["hex"]) + data, decode_error)
