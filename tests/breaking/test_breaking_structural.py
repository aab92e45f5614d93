"""Structural comparison of swapped message types, checked against its specification: swapping a
field's type from X to a copy X_V2 (every message reachable from X copied, references renamed,
edits applied to the copies) must get the tier that the same edits get when applied to X and the
messages it reaches in place, by name: the worst finding on a reachable message, or SOURCE when
there is none. Random message graphs (cycles and self references included) and random edits,
built directly as IRs."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Literal

from hypothesis import given, settings
from hypothesis import strategies as st

from apirpc_compiler.breaking.compare import compare
from apirpc_compiler.breaking.rules import Tier
from apirpc_compiler.ir import model as m

_SCALARS = ("int32", "int64", "sint32", "uint32", "fixed32", "sfixed32", "string", "bytes", "double")
_Kind = Literal["scalar", "enum", "message"]
_HOLDER = "/messages/Holder/fields/root_0/type"


def _field(name: str, number: int, type_name: str, kind: _Kind = "scalar", label: m.Label = "implicit") -> m.Field:
    words = name.split("_")
    return {
        "name": name,
        "words": words,
        "number": number,
        "doc": "",
        "type": {"kind": kind, "name": type_name},
        "label": label,
        "oneof": None,
        "json_name": words[0] + "".join(w.title() for w in words[1:]),
        "wire_type": 2,  # not read by the comparison
        "packed": False,
        "default": None,
        "deprecated": False,
    }


def _message(name: str, fields: list[m.Field]) -> m.Message:
    return {
        "name": name,
        "words": [name],
        "doc": "",
        "fields": fields,
        "oneofs": [],
        "reserved": {"numbers": [], "names": []},
    }


def _ir(messages: list[m.Message]) -> m.IR:
    return {
        "format": m.IR_FORMAT,
        "package": "p.v1",
        "package_words": ["p", "v1"],
        "source_sha256": "",
        "source_name": "test.json",
        "doc": "",
        "enums": [],
        "messages": messages,
        "services": [],
        "track_kinds": [],
        "bridges": [],
        "auth": None,
        "decode_errors": [],
        "wire": [],
    }


@dataclass(frozen=True)
class Edit:
    """One edit of a scalar field of a message: rename (keeping its number), a new ProtoJSON
    name, another scalar type, removal, repeated; or a new scalar field."""

    message: int
    op: str
    pick: int  # which scalar field (modulo their count)
    scalar: str


def _apply(msg: m.Message, edit: Edit) -> None:
    scalars = [f for f in msg["fields"] if f["type"]["kind"] == "scalar"]
    if edit.op == "add":
        msg["fields"].append(_field(f"added_{len(msg['fields'])}", 100 + len(msg["fields"]), edit.scalar))
        return
    if not scalars:
        return
    f = scalars[edit.pick % len(scalars)]
    if edit.op == "rename":
        f["name"] += "_renamed"
        f["json_name"] += "Renamed"
    elif edit.op == "json_name":
        f["json_name"] += "Key"
    elif edit.op == "type":
        f["type"]["name"] = edit.scalar
    elif edit.op == "remove":
        msg["fields"].remove(f)
    elif edit.op == "repeated":
        f["label"] = "repeated"


@st.composite
def _graphs(draw: st.DrawFn) -> tuple[list[m.Message], list[Edit]]:
    n = draw(st.integers(1, 5))
    messages = []
    for i in range(n):
        fields = []
        for number in range(1, draw(st.integers(1, 4)) + 1):
            if draw(st.booleans()):
                target = draw(st.integers(0, n - 1))  # any message: cycles and self references
                label: m.Label = draw(st.sampled_from(("implicit", "repeated")))
                fields.append(_field(f"ref_{number}", number, f"M{target}", "message", label))
            else:
                fields.append(_field(f"value_{number}", number, draw(st.sampled_from(_SCALARS))))
        messages.append(_message(f"M{i}", fields))
    edits = draw(
        st.lists(
            st.builds(
                Edit,
                st.integers(0, n - 1),
                st.sampled_from(("rename", "json_name", "type", "remove", "repeated", "add")),
                st.integers(0, 3),
                st.sampled_from(_SCALARS),
            ),
            max_size=3,
        )
    )
    return messages, edits


def _reachable(messages: list[m.Message], root: str) -> set[str]:
    by_name = {x["name"]: x for x in messages}
    seen = {root}
    todo = [root]
    while todo:
        for f in by_name[todo.pop()]["fields"]:
            t = f["type"]
            if t["kind"] == "message" and t["name"] not in seen:
                seen.add(t["name"])
                todo.append(t["name"])
    return seen


def _edited(messages: list[m.Message], edits: list[Edit], suffix: str) -> list[m.Message]:
    """The messages with the edits applied, every name (and reference) given `suffix`."""
    out = copy.deepcopy(messages)
    for msg in out:
        msg["name"] += suffix
        for f in msg["fields"]:
            if f["type"]["kind"] == "message":
                f["type"]["name"] += suffix
    for e in edits:
        _apply(out[e.message], e)
    return out


def _holder(n: int, suffix: str, prefix: str = "M") -> m.Message:
    """Holder.root_i holds M<i><suffix>: one swap per message, all judged in one comparison."""
    return _message("Holder", [_field(f"root_{i}", i + 1, f"{prefix}{i}{suffix}", "message") for i in range(n)])


@settings(max_examples=300, deadline=None)
@given(_graphs())
def test_swap_is_judged_as_the_same_edits_in_place(graph: tuple[list[m.Message], list[Edit]]) -> None:
    messages, edits = graph
    n = len(messages)
    old = _ir([*messages, _holder(n, "")])
    in_place = compare(old, _ir([*_edited(messages, edits, ""), _holder(n, "")]))
    swapped = compare(old, _ir([*messages, *_edited(messages, edits, "_V2"), _holder(n, "_V2")]))

    assert [(f.rule, f.pointer) for f in swapped] == [
        ("field-type-changed", f"/messages/Holder/fields/root_{i}/type") for i in range(n)
    ]
    for i, found in enumerate(swapped):
        reachable = _reachable(messages, f"M{i}")
        expected = max((f.tier for f in in_place if f.pointer.split("/")[2] in reachable), default=Tier.SOURCE)
        assert found.tier == expected, found.message


def test_long_cycle_difference_at_the_far_end() -> None:
    """A ring of 500 messages whose only difference is in the last: found, without recursion limits."""
    n = 500

    def ring(suffix: str, last_type: str) -> list[m.Message]:
        return [
            _message(
                f"R{i}{suffix}",
                [
                    _field("next", 1, f"R{(i + 1) % n}{suffix}", "message"),
                    _field("value", 2, last_type if i == n - 1 else "int32"),
                ],
            )
            for i in range(n)
        ]

    for last_type, tier in (("int32", Tier.SOURCE), ("int64", Tier.WIRE_JSON), ("sint32", Tier.WIRE)):
        old = _ir([*ring("", "int32"), _holder(1, "", "R")])
        found = compare(old, _ir([*ring("", "int32"), *ring("_V2", last_type), _holder(1, "_V2", "R")]))
        assert [(f.rule, f.pointer, f.tier) for f in found] == [("field-type-changed", _HOLDER, tier)]
        if tier is not Tier.SOURCE:
            assert f"R{n - 1}_V2.value" in found[0].message  # names the difference
