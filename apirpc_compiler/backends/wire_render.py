"""What rendering a codec plan (ir/plan.py) needs that does not depend on the language.

Every wire renderer (`<lang>/emit_wire.py`) starts from a `ProtocolView`, writes into a `Code`,
walks a struct's ops field by field (`split_fields`, `read_fields`, `loop_item`) and spells the
plan's integer checks and conditions through its `Operators` (`check_test`, `cond_test`). What
is left in a backend is spelling: how its language reads, writes, declares and fails.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..ir import plan
from ..ir.model import WireCodeSet, WireProtocol, WireStruct
from ..ir.wire import code_sets_by_name, structs_by_name
from .common import WireGenError


class Code:
    """Generated source lines, indented by `unit` a level; `fresh` names temporaries (n1, n2, ...)."""

    def __init__(self, unit: str = "    ") -> None:
        self.lines: list[str] = []
        self.unit = unit
        self.count = 0

    def add(self, ind: int, line: str) -> None:
        self.lines.append(self.unit * ind + line if line else "")

    def blank(self) -> None:
        if self.lines and self.lines[-1] != "":
            self.lines.append("")

    def fresh(self, prefix: str) -> str:
        self.count += 1
        return f"{prefix}{self.count}"

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


class ProtocolView:
    """A wire protocol with its plan, looked up by name. `lang` prefixes the errors it raises."""

    def __init__(self, proto: WireProtocol, lang: str) -> None:
        self.proto = proto
        self.lang = lang
        self.structs: dict[str, WireStruct] = structs_by_name(proto)
        self.code_sets: dict[str, WireCodeSet] = code_sets_by_name(proto)
        try:
            self.plan = plan.lower_protocol(proto)
        except plan.PlanError as e:  # the pipeline reports these first; a direct caller gets the backend's error
            raise WireGenError(str(e)) from e
        self.struct_plans = {x.name: x for x in self.plan.structs}
        self.stream_plans = {x.name: x for x in self.plan.streams}
        self.closed_code_sets = {c.name for c in self.plan.code_sets}

    def struct_words(self, name: str) -> list[str]:
        return list(self.structs[name]["words"])

    def code_words(self, name: str) -> list[str]:
        if name not in self.code_sets:
            raise WireGenError(f"{self.proto['name']}: unknown code set {name!r}")
        return list(self.code_sets[name]["words"])

    def state(self, stream: plan.StreamPlan, name: str) -> plan.StreamState:
        return next(x for x in stream.states if x.name == name)

    def fail(self, what: str) -> WireGenError:
        return WireGenError(f"{self.lang}: {self.proto['name']}: {what}")


def split_fields(ops: tuple[plan.Op, ...] | list[plan.Op]) -> list[tuple[plan.Begin, list[plan.Op]]]:
    """A struct's ops split at each field's `begin`."""
    out: list[tuple[plan.Begin, list[plan.Op]]] = []
    for op in ops:
        if isinstance(op, plan.Begin):
            out.append((op, []))
        elif out:
            out[-1][1].append(op)
        else:
            raise WireGenError(f"{op.op} before the first field")
    return out


def read_fields(ops: tuple[plan.Op, ...]) -> set[str]:
    """The fields whose value a later op reads (a length, a count or a condition)."""
    out: set[str] = set()
    for op in plan.walk(ops):
        for value in vars(op).values():
            if isinstance(value, (plan.FieldValue, plan.FieldTest)):
                out.add(value.field)
    return out


def loop_item(body: tuple[plan.Op, ...]) -> tuple[str, list[plan.Op]]:
    """A decode loop body's element: its slot and its ops (without the room check and the append)."""
    item = next(op.item for op in body if isinstance(op, plan.Append))
    return item, [op for op in body if not isinstance(op, (plan.Room, plan.Append))]


@dataclass(frozen=True)
class Operators:
    """How a language spells the integer tests of checks and conditions. Each template takes `a`
    (the value) and `b` (a literal spelled by `literal`); `member(v, values)` tests membership."""

    literal: Callable[[int], str]
    member: Callable[[str, tuple[int, ...]], str]
    lt: str = "{a} < {b}"
    gt: str = "{a} > {b}"
    eq: str = "{a} == {b}"
    ne: str = "{a} != {b}"
    outside_mask: str = "({a} & ~{b}) != 0"
    parity: str = "({a} & 1) == {b}"
    negate: str = "!({a})"
    negate_name: str = "!{a}"


def check_test(op: plan.Check, v: str, ops: Operators, not_a_code: Callable[[str, str], str]) -> tuple[str, str]:
    """When `op` fails, as a test of `v`, and what the value then is, in words ("is below 3").
    `not_a_code(code_set, v)` spells the failing test of a `codes` check."""
    bound = op.bound or 0
    b = ops.literal(bound)
    if op.test == "const":
        return ops.ne.format(a=v, b=b), f"is not the constant {bound}"
    if op.test == "codes":
        return not_a_code(str(op.codes), v), f"is not a {op.codes} code"
    if op.test == "min":
        return ops.lt.format(a=v, b=b), f"is below {bound}"
    if op.test == "max":
        return ops.gt.format(a=v, b=b), f"is above {bound}"
    return ops.outside_mask.format(a=v, b=b), f"has bits outside {bound:#x}"


def cond_test(
    c: plan.Cond,
    ops: Operators,
    flag: Callable[[str], str],
    value: Callable[[str], str],
    optional: Callable[[str, Callable[[str], str]], str] | None = None,
) -> str:
    """A plan condition as a boolean expression. `flag(name)` and `value(field)` spell a flag and a
    field; a test of a conditional field (absent fails every test) goes through `optional(v, test)`,
    and a language without one (`None`) refuses such a plan."""
    if isinstance(c, plan.FlagIs):
        f = flag(c.flag)
        return f if c.value else ops.negate_name.format(a=f)

    def test(v: str) -> str:
        if c.test in ("eq", "ne"):
            return (ops.eq if c.test == "eq" else ops.ne).format(a=v, b=ops.literal(c.values[0]))
        if c.test in ("in", "not_in"):
            inside = ops.member(v, c.values)
            return inside if c.test == "in" else ops.negate.format(a=inside)
        return ops.parity.format(a=v, b=0 if c.test == "even" else 1)

    v = value(c.field)
    if not c.optional:
        return test(v)
    if optional is None:
        raise WireGenError(f"a condition on the conditional field {c.field}")
    return optional(v, test)
