"""Wire struct values: random values from the IR's wire structs and a reference encoder.

Values respect every declaration: constants, closed code sets, min/max, masks, variant type
codes, `when` conditions and length fields (a `{"field": F}` length makes F the byte count of
the bytes it measures). The reference encoder is a direct reading of the IDL's wire DSL and
shares nothing with the generated SDKs, so it is an independent oracle for the bytes.
"""

from __future__ import annotations

import random
from typing import Any

from apirpc_compiler.ir.model import WireCond, WireField, WireProtocol, WireStruct, WireType

WIDTH = {"u8": 1, "u16": 2, "u32": 4, "u64": 8}
MAX_VARINT = 2**62 - 1
TEXT_POOL = ["a", "Z", " ", "é", "中", "😀", "\u2028", "\x00", '"', "\\", "\U0010ffff"]


def quic_varint(v: int) -> bytes:
    if v < 0x40:
        return bytes([v])
    if v < 0x4000:
        return (v | 0x4000).to_bytes(2, "big")
    if v < 0x40000000:
        return (v | 0x80000000).to_bytes(4, "big")
    if v <= MAX_VARINT:
        return (v | 0xC000000000000000).to_bytes(8, "big")
    raise ValueError(f"{v} is not a QUIC varint")


def json_int(v: int) -> int | str:
    return v if v <= 2**53 - 1 else str(v)


def from_json_int(v: Any) -> int:
    return int(v)


class WireModel:
    """The structs of one protocol, for generating and encoding values."""

    def __init__(self, protocol: WireProtocol) -> None:
        self.protocol = protocol
        self.structs = {s["name"]: s for s in protocol["structs"]}
        self.codes = {c["name"]: c for c in protocol["codes"]}

    # ---- conditions ----

    def flags(self, struct: WireStruct, value: dict[str, Any], args: dict[str, bool]) -> dict[str, bool]:
        out = dict(args)
        if struct["variants"] and "type" in value:
            code = from_json_int(value["type"])
            for variant in struct["variants"]:
                if variant["code"] == code:
                    out.update(variant["flags"])
        return out

    @staticmethod
    def holds(cond: WireCond | None, value: dict[str, Any], flags: dict[str, bool]) -> bool:
        if cond is None:
            return True
        if cond["op"] == "flag":
            return flags.get(cond["name"], False) == cond["value"]
        x = from_json_int(value[cond["name"]])
        target = cond["value"]
        if cond["op"] == "eq":
            return x == target
        if cond["op"] == "ne":
            return x != target
        if cond["op"] == "in":
            return isinstance(target, list) and x in target
        if cond["op"] == "not_in":
            return isinstance(target, list) and x not in target
        if cond["op"] == "even":
            return x % 2 == 0
        return x % 2 == 1

    # ---- random values ----

    def generate(self, name: str, rng: random.Random, args: dict[str, bool] | None = None) -> dict[str, Any]:
        struct = self.structs[name]
        args = dict(args or {})
        value: dict[str, Any] = {}
        # Bytes measured by an earlier integer field are drawn when that field is reached.
        measured = {
            f["type"]["length"]["field"]: f
            for f in struct["fields"]
            if f["type"]["length"] is not None and f["type"]["length"]["kind"] == "field"
        }
        early: dict[str, Any] = {}
        for field in struct["fields"]:
            flags = self.flags(struct, value, args)
            if not self.holds(field["when"], value, flags):
                continue
            if field["name"] in early:
                value[field["name"]] = early.pop(field["name"])
                continue
            target = measured.get(field["name"])
            if target is not None and self.holds(target["when"], value, flags):
                lo = max(field["type"]["min"] or 0, 0)
                data = self.blob(rng, lo, min(field["type"]["max"] or 64, 64))
                early[target["name"]] = data.hex()
                value[field["name"]] = json_int(len(data))
                continue
            if field["name"] == "type" and struct["variants"]:
                value["type"] = json_int(rng.choice(struct["variants"])["code"])
                continue
            value[field["name"]] = self.gen_type(field["type"], rng, depth=0)
        return value

    def blob(self, rng: random.Random, lo: int, hi: int) -> bytes:
        n = rng.choice([lo, lo, rng.randint(lo, max(lo, hi))])
        return rng.randbytes(n)

    def gen_int(self, t: WireType, rng: random.Random) -> int:
        if t["const"] is not None:
            return t["const"]
        if t["codes"] is not None and (t["closed"] or rng.random() < 0.6):
            allowed = [c["value"] for c in self.codes[t["codes"]]["values"]]
            allowed = [
                v for v in allowed if (t["min"] is None or v >= t["min"]) and (t["max"] is None or v <= t["max"])
            ]
            return rng.choice(allowed)
        top = MAX_VARINT if t["type"] == "varint" else 2 ** (8 * WIDTH[t["type"]]) - 1
        lo, hi = t["min"] or 0, min(top, t["max"] if t["max"] is not None else top)
        r = rng.random()
        if r < 0.3:
            v = rng.choice([lo, hi, min(hi, 63), min(hi, 64), min(hi, 16383), min(hi, 16384), min(hi, 2**30)])
        else:
            v = rng.getrandbits(rng.randint(1, hi.bit_length() or 1))
        v = max(lo, min(hi, v))
        if t["mask"] is not None:
            v &= t["mask"]
        return v

    def gen_type(self, t: WireType, rng: random.Random, depth: int) -> Any:
        kind = t["type"]
        if kind == "varint" or kind in WIDTH:
            return json_int(self.gen_int(t, rng))
        if kind == "bytes":
            size = t["length"]["size"] if t["length"] is not None and t["length"]["kind"] == "fixed" else None
            if size is not None:
                return self.blob(rng, size, size).hex()
            hi = min(t["max"] if t["max"] is not None else 64, 64)
            if t["max"] is not None and t["max"] <= 65535 and rng.random() < 0.02:
                return self.blob(rng, t["max"], t["max"]).hex()  # exactly at the limit
            return self.blob(rng, 0, hi).hex()
        if kind == "string":
            limit = t["max"] if t["max"] is not None else 64
            text = ""
            for _ in range(rng.choice([0, 1, 4, 12])):
                c = rng.choice(TEXT_POOL)
                if len((text + c).encode()) > limit:
                    break
                text += c
            return text
        if kind == "list":
            assert t["element"] is not None
            lo = t["min"] or 0
            hi = max(lo, min(t["max"] if t["max"] is not None else 4, 4 if depth == 0 else 2))
            n = rng.randint(lo, hi)
            return [self.gen_type(t["element"], rng, depth + 1) for _ in range(n)]
        if kind == "struct":
            assert t["struct"] is not None
            return self.generate(t["struct"], rng)
        raise ValueError(f"unknown wire type {kind}")

    # ---- the reference encoder ----

    def encode(self, name: str, value: dict[str, Any], args: dict[str, bool] | None = None) -> bytes:
        struct = self.structs[name]
        flags = self.flags(struct, value, dict(args or {}))
        out = bytearray()
        for field in struct["fields"]:
            if not self.holds(field["when"], value, flags):
                continue
            out += self.encode_type(field, field["type"], value[field["name"]])
        return bytes(out)

    def encode_type(self, field: WireField, t: WireType, v: Any) -> bytes:
        kind = t["type"]
        if kind == "varint":
            return quic_varint(from_json_int(v))
        if kind in WIDTH:
            return from_json_int(v).to_bytes(WIDTH[kind], "big")
        if kind in ("bytes", "string"):
            data = bytes.fromhex(v) if kind == "bytes" else v.encode()
            return self.prefix(t, len(data)) + data
        if kind == "list":
            assert t["element"] is not None
            body = b"".join(self.encode_type(field, t["element"], x) for x in v)
            return self.framed(t, self.prefix(t, len(v)) + body)
        if kind == "struct":
            assert t["struct"] is not None
            return self.framed(t, self.encode(t["struct"], v))
        raise ValueError(f"unknown wire type {kind}")

    @staticmethod
    def framed(t: WireType, body: bytes) -> bytes:
        """A `frame` (a byte length in front of a list or struct) around `body`."""
        frame = t.get("frame")
        return quic_varint(len(body)) + body if frame is not None else body

    @staticmethod
    def prefix(t: WireType, n: int) -> bytes:
        length = t["length"]
        return quic_varint(n) if length is not None and length["kind"] == "varint" else b""
