"""protoc as an independent judge of the rules taken from it: the `.proto` generated from an IDL
that `validate` rejects under one of these rules is rejected by protoc too, and what `validate`
accepts on purpose (reserving 19000-19999, negative enum numbers) protoc accepts as well."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from frontend_helpers import real_doc, write_idl

from apirpc_compiler.backends.proto import PROTO_FILE, ProtoBackend
from apirpc_compiler.frontend.load import load_idl
from apirpc_compiler.frontend.validate import validate
from apirpc_compiler.ir.build import build_ir

Doc = dict[str, Any]

pytestmark = pytest.mark.skipif(shutil.which("protoc") is None, reason="protoc is not on PATH")


def _reorder_direction(d: Doc) -> None:
    values = d["enums"]["Direction"]["values"]
    d["enums"]["Direction"]["values"] = {k: values[k] for k in ("inbound", "unspecified", "outbound")}


def _oneof_named_like_field(d: Doc) -> None:
    d["messages"]["TransferRequest"]["oneofs"]["sid"] = {"doc": "x"}
    d["messages"]["TransferRequest"]["fields"]["sid"]["oneof"] = "sid"


def _json_camel_twins(d: Doc) -> None:
    d["messages"]["Empty"]["fields"] = {"a_1": {"number": 1, "type": "string"}, "a1": {"number": 2, "type": "string"}}


def _set_reserved(path: list[str], numbers: list[Any]) -> Callable[[Doc], None]:
    def mutate(d: Doc) -> None:
        node: Any = d
        for token in path:
            node = node.setdefault(token, {})
        node["numbers"] = numbers

    return mutate


# (mutation, the rule validate reports or None, a piece of protoc's error or None)
CASES: list[tuple[str, Callable[[Doc], None], str | None, str | None]] = [
    (
        "reserved field number 0",
        _set_reserved(["messages", "Call", "reserved"], [0, 17]),
        "reserved-out-of-range",
        "Reserved numbers must be positive integers",
    ),
    ("zero enum value not first", _reorder_direction, "enum-zero-not-first", "The first enum value must be zero"),
    ("oneof named like a field", _oneof_named_like_field, "oneof-name-conflict", '"sid" is already defined'),
    ("default JSON names collide", _json_camel_twins, "json-name-collision", "conflicts with field"),
    ("reserving 19000-19999", _set_reserved(["messages", "Call", "reserved"], [17, [19000, 19999]]), None, None),
    ("negative reserved enum numbers", _set_reserved(["enums", "Direction", "reserved"], [-5, [-10, -7]]), None, None),
]


def _protoc(doc: Doc, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    (proto,) = ProtoBackend().generate(build_ir(doc, b"", "idl.json"))
    (tmp_path / PROTO_FILE).write_text(proto.content, encoding="utf-8")
    return subprocess.run(
        ["protoc", f"--proto_path={tmp_path}", f"--descriptor_set_out={tmp_path / 'set.pb'}", PROTO_FILE],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


@pytest.mark.parametrize(("what", "mutate", "rule", "protoc_error"), CASES, ids=[c[0] for c in CASES])
def test_validate_and_protoc_agree(
    tmp_path: Path, what: str, mutate: Callable[[Doc], None], rule: str | None, protoc_error: str | None
) -> None:
    doc = real_doc()
    mutate(doc)
    path, _ = write_idl(tmp_path, doc)
    rules = {d.rule for d in validate(load_idl(str(path)))}
    proc = _protoc(doc, tmp_path)
    if rule is None:
        assert rules == set(), f"{what}: {rules}"
        assert proc.returncode == 0, f"{what}: {proc.stderr}"
    else:
        assert rule in rules, f"{what}: {rules}"
        assert proc.returncode != 0 and protoc_error is not None and protoc_error in proc.stderr, proc.stderr
