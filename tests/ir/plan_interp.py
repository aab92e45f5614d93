"""A reference interpreter of the codec plan's JSON form: a test oracle, not product code.

It decodes and encodes by walking the ops of `apirpc-compiler ir`'s `plan` and nothing else (no
backend, no generated code, no IR wire section), so that the vectors prove the plan itself.
Values are in the vectors' value format (tests/vectors/README.md): integers as numbers (decimal
strings above 2^53-1), bytes as lowercase hex, strings as text, structs as objects.
"""

from __future__ import annotations

from typing import Any

Json = Any
_INT_SIZE = {"u8": 1, "u16": 2, "u32": 4, "u64": 8}
_VARINT_MAX = (1 << 62) - 1
_EXACT = (1 << 53) - 1


class DecodeFailure(Exception):
    def __init__(self, reason: str, offset: int, where: str = "") -> None:
        super().__init__(f"{reason} at {offset} ({where})")
        self.reason = reason
        self.offset = offset


class EncodeFailure(Exception):
    pass


class Codec:
    """One protocol's plan: decode/encode structs and streams."""

    def __init__(self, protocol: Json) -> None:
        self.structs: dict[str, Json] = {s["name"]: s for s in protocol["structs"]}
        self.streams: dict[str, Json] = {s["name"]: s for s in protocol["streams"]}
        self.code_sets: dict[str, set[int]] = {c["name"]: set(c["values"]) for c in protocol["code_sets"]}
        self.max_buffer = int(protocol["max_buffer"])
        self.max_item = 0  # while a stream is parsed: its buffer bound (see ProtocolPlan)
        self.buffer_reason = "too_large"

    # ---- shared ----
    def variant_flags(self, struct: str, code: int) -> list[bool] | None:
        for v in self.structs[struct]["variants"]:
            if v["code"] == code:
                return list(v["flags"])
        return None

    def operand(self, o: Json, env: dict[str, Any], pos: int) -> int:
        node = o["node"]
        if node == "var":
            return int(env[o["name"]])
        if node == "field_value":
            v = env["v_" + o["field"]]
            return 0 if v is None else int(v)
        if node == "const":
            return int(o["value"])
        if node == "remaining":
            return int(env[o["end"]]) - pos
        return len(env[o["name"]])

    def cond(self, c: Json, env: dict[str, Any]) -> bool:
        if c["node"] == "flag_is":
            return bool(env["f_" + c["flag"]]) == c["value"]
        v = env["v_" + c["field"]]
        if v is None:
            return False
        test, values = c["test"], c["values"]
        return {
            "eq": lambda: v == values[0],
            "ne": lambda: v != values[0],
            "in": lambda: v in values,
            "not_in": lambda: v not in values,
            "even": lambda: v % 2 == 0,
            "odd": lambda: v % 2 == 1,
        }[test]()

    def check_fails(self, op: Json, v: int) -> bool:
        test, bound = op["test"], op["bound"]
        if test == "const":
            return bool(v != bound)
        if test == "codes":
            return v not in self.code_sets[op["codes"]]
        if test == "min":
            return bool(v < bound)
        if test == "max":
            return bool(v > bound)
        return bool(v & ~bound)

    # ---- decode ----
    def read_int(self, data: bytes, pos: int, width: str, end: int, error: str, where: str) -> tuple[int, int]:
        if width == "varint":
            if pos >= end:
                raise DecodeFailure(error, pos, where)
            size = 1 << (data[pos] >> 6)
            if pos + size > end:
                raise DecodeFailure(error, pos, where)
            value = data[pos] & 0x3F
            for b in data[pos + 1 : pos + size]:
                value = value << 8 | b
            return value, pos + size
        size = _INT_SIZE[width]
        if pos + size > end:
            raise DecodeFailure(error, pos, where)
        return int.from_bytes(data[pos : pos + size], "big"), pos + size

    def decode_struct(self, name: str, data: bytes, pos: int, end: int, args: list[bool]) -> tuple[dict[str, Any], int]:
        s = self.structs[name]
        env: dict[str, Any] = {"end": end}
        for a, value in zip(s["args"], args, strict=True):
            env["f_" + a] = value
        pos = self.run_decode(s, s["decode"], data, pos, env)
        value = {f["name"]: self.to_json(f["type"], env[f["var"]]) for f in s["fields"] if env[f["var"]] is not None}
        return value, pos

    def run_decode(self, s: Json, ops: list[Json], data: bytes, pos: int, env: dict[str, Any]) -> int:
        for op in ops:
            kind = op["op"]
            if kind == "begin":
                continue
            if kind == "mark":
                env[op["var"]] = pos
            elif kind == "read_int":
                env[op["var"]], pos = self.read_int(data, pos, op["width"], env[op["end"]], op["error"], op["where"])
            elif kind == "check":
                if self.check_fails(op, env[op["var"]]):
                    raise DecodeFailure(op["reason"], env[op["at"]], op["where"])
            elif kind == "limit":
                if self.operand(op["subject"], env, pos) > op["limit"]:
                    raise DecodeFailure(op["reason"], pos, op["where"])
            elif kind in ("read_bytes", "read_fixed"):
                n = op["size"] if kind == "read_fixed" else self.operand(op["length"], env, pos)
                if n > env[op["end"]] - pos:
                    if kind == "read_bytes" and 0 < self.max_item < n:
                        raise DecodeFailure(self.buffer_reason, pos, op["where"])
                    raise DecodeFailure(op["error"], pos, op["where"])
                raw = bytes(data[pos : pos + n])
                if op["utf8"]:
                    try:
                        env[op["var"]] = raw.decode("utf-8")
                    except UnicodeDecodeError as e:
                        raise DecodeFailure(op["utf8_error"], pos + e.start, op["where"]) from None
                else:
                    env[op["var"]] = raw
                pos += n
            elif kind == "open_frame":
                if op["length"]["node"] == "remaining":
                    env[op["var"]] = env[op["end"]]
                else:
                    n = self.operand(op["length"], env, pos)
                    if n > env[op["end"]] - pos:
                        if 0 < self.max_item < n:
                            raise DecodeFailure(self.buffer_reason, pos, op["where"])
                        raise DecodeFailure(op["error"], pos, op["where"])
                    env[op["var"]] = pos + n
            elif kind == "expect_end":
                if pos != env[op["end"]]:
                    raise DecodeFailure(op["reason"], pos, op["where"])
            elif kind == "decode_struct":
                args = [env[a] for a in op["args"]]
                env[op["var"]], pos = self.decode_struct(op["struct"], data, pos, env[op["end"]], args)
            elif kind == "new_list":
                env[op["var"]] = []
            elif kind == "min_count":
                if self.operand(op["subject"], env, pos) < op["min"]:
                    raise DecodeFailure(op["reason"], env[op["at"]], op["where"])
            elif kind == "need":
                if self.operand(op["count"], env, pos) * op["min_bytes"] > env[op["end"]] - pos:
                    raise DecodeFailure(op["error"], pos, op["where"])
            elif kind == "room":
                if len(env[op["list"]]) >= op["max"]:
                    raise DecodeFailure(op["reason"], pos, op["where"])
            elif kind == "repeat":
                for _ in range(self.operand(op["count"], env, pos)):
                    pos = self.run_decode(s, op["body"], data, pos, env)
            elif kind == "until_end":
                while pos < env[op["end"]]:
                    pos = self.run_decode(s, op["body"], data, pos, env)
            elif kind == "append":
                env[op["list"]].append(env[op["item"]])
            elif kind == "optional":
                env[op["var"]] = None
                if self.cond(op["cond"], env):
                    pos = self.run_decode(s, op["body"], data, pos, env)
                    env[op["var"]] = env[op["item"]]
            elif kind == "variant":
                flags = self.variant_flags(op["struct"], env[op["var"]])
                if flags is None:
                    raise DecodeFailure(op["reason"], pos, op["struct"])
                for f in op["flags"]:
                    env[f["var"]] = flags[f["index"]]
            else:
                raise AssertionError(f"not a decode op: {kind}")
        return pos

    def to_json(self, t: Json, v: Any) -> Json:
        kind = t["kind"]
        if kind == "int":
            return v if v <= _EXACT else str(v)
        if kind == "bytes":
            return bytes(v).hex()
        if kind == "list":
            return [self.to_json(t["element"], x) for x in v]
        return v  # string, or a struct already in value form

    def decode_whole(self, name: str, data: bytes, args: list[bool]) -> dict[str, Any]:
        value, pos = self.decode_struct(name, data, 0, len(data), args)
        if pos != len(data):
            raise DecodeFailure(self.structs[name]["whole_reason"], pos, name)
        return value

    # ---- encode ----
    def from_json(self, t: Json, v: Json) -> Any:
        kind = t["kind"]
        if kind == "int":
            return int(v)
        if kind == "bytes":
            return bytes.fromhex(v)
        if kind == "list":
            return [self.from_json(t["element"], x) for x in v]
        return v

    def write_int(self, out: bytearray, v: int, width: str) -> None:
        if width == "varint":
            if not 0 <= v <= _VARINT_MAX:
                raise EncodeFailure(f"{v} is not a varint")
            size = 1 if v < 1 << 6 else 2 if v < 1 << 14 else 4 if v < 1 << 30 else 8
            b = bytearray(v.to_bytes(size, "big"))
            b[0] |= {1: 0, 2: 0x40, 4: 0x80, 8: 0xC0}[size]
            out += b
        else:
            size = _INT_SIZE[width]
            if not 0 <= v < 1 << (8 * size):
                raise EncodeFailure(f"{v} does not fit {width}")
            out += v.to_bytes(size, "big")

    def encode_struct(self, name: str, value: dict[str, Any], out: bytearray, args: list[bool]) -> None:
        s = self.structs[name]
        env: dict[str, Any] = {"out": out}
        for a, flag in zip(s["args"], args, strict=True):
            env["f_" + a] = flag
        for f in s["fields"]:
            env[f["var"]] = self.from_json(f["type"], value[f["name"]]) if f["name"] in value else None
        self.run_encode(s["encode"], env)

    def run_encode(self, ops: list[Json], env: dict[str, Any]) -> None:
        for op in ops:
            kind = op["op"]
            if kind == "begin":
                continue
            if kind == "check":
                if self.check_fails(op, env[op["var"]]):
                    raise EncodeFailure(f"{op['where']}: {op['test']}")
            elif kind == "write_int":
                self.write_int(env[op["out"]], env[op["value"]], op["width"])
            elif kind == "as_bytes":
                v = env[op["value"]]
                env[op["var"]] = v.encode("utf-8") if op["utf8"] else bytes(v)
            elif kind == "limit":
                if self.operand(op["subject"], env, 0) > op["limit"]:
                    raise EncodeFailure(f"{op['where']}: over {op['limit']}")
            elif kind == "min_count":
                if self.operand(op["subject"], env, 0) < op["min"]:
                    raise EncodeFailure(f"{op['where']}: too few")
            elif kind == "write_length":
                n = self.operand(op["subject"], env, 0)
                if op["kind"] == "varint":
                    self.write_int(env[op["out"]], n, "varint")
                elif op["kind"] == "field" and n != self.operand(op["field"], env, 0):
                    raise EncodeFailure(f"{op['where']}: length does not match")
                elif op["kind"] == "fixed" and n != op["size"]:
                    raise EncodeFailure(f"{op['where']}: wrong fixed length")
            elif kind == "write_bytes":
                env[op["out"]] += env[op["value"]]
            elif kind == "encode_struct":
                self.encode_struct(op["struct"], env[op["value"]], env[op["out"]], [env[a] for a in op["args"]])
            elif kind == "new_buffer":
                env[op["var"]] = bytearray()
            elif kind == "write_buffer":
                env[op["out"]] += env[op["buffer"]]
            elif kind == "for_each":
                for item in env[op["list"]]:
                    env[op["item"]] = item
                    self.run_encode(op["body"], env)
            elif kind == "optional":
                present = env[op["var"]] is not None
                if self.cond(op["cond"], env):
                    if not present:
                        raise EncodeFailure(f"{op['where']} is required")
                    env[op["item"]] = env[op["var"]]
                    self.run_encode(op["body"], env)
                elif present:
                    raise EncodeFailure(f"{op['where']} must be absent")
            elif kind == "variant":
                flags = self.variant_flags(op["struct"], env[op["var"]])
                if flags is None:
                    raise EncodeFailure(f"{op['struct']}: unknown type")
                for f in op["flags"]:
                    env[f["var"]] = flags[f["index"]]
            else:
                raise AssertionError(f"not an encode op: {kind}")

    def encode_whole(self, name: str, value: dict[str, Any], args: list[bool]) -> bytes:
        out = bytearray()
        self.encode_struct(name, value, out, args)
        return bytes(out)

    # ---- streams: walk the state machine over the whole input (FIN at its end) ----
    def decode_stream(self, name: str, data: bytes) -> list[tuple[str, dict[str, Any]]]:
        st = self.streams[name]
        if st["kind"] == "datagram":  # decoded whole, not buffered
            return self.walk_stream(st, data)
        self.max_item, self.buffer_reason = self.max_buffer, st["buffer_reason"]
        try:
            return self.walk_stream(st, data)
        finally:
            self.max_item = 0

    def walk_stream(self, st: Json, data: bytes) -> list[tuple[str, dict[str, Any]]]:
        states = {s["name"]: s for s in st["states"]}
        state = states[st["initial"]]
        flags: list[bool] = []
        items: list[tuple[str, dict[str, Any]]] = []
        pos = 0
        while True:
            if pos == len(data):
                if state["at_end"] != "accept":
                    raise DecodeFailure(state["at_end"], pos, state["name"])
                return items
            start = pos
            end = len(data)
            frame = state["frame"]
            if frame is not None:
                code, pos = self.read_int(data, pos, frame["type"], end, "truncated", "Type")
                length, pos = self.read_int(data, pos, frame["length"], end, "truncated", "Length")
                chosen = [t for t in state["transitions"] if code in t["codes"]]
                if not chosen:
                    raise DecodeFailure(frame["unknown_reason"], pos, "Type")
                if length > frame["max_length"]:
                    raise DecodeFailure(frame["too_large_reason"], pos, "Length")
                if length > self.max_item:
                    raise DecodeFailure(st["buffer_reason"], pos, "Length")
                if length > end - pos:
                    raise DecodeFailure(frame["past_end_reason"], pos, "Length")
                end = pos + length
            elif state["peek"] is not None:
                code, _ = self.read_int(data, pos, state["peek"], end, "truncated", "type")
                chosen = [t for t in state["transitions"] if code in t["codes"]]
                if not chosen:
                    raise DecodeFailure(state["unknown_reason"], pos, "type")
            else:
                chosen = list(state["transitions"])
            if not chosen:
                raise DecodeFailure(st["empty_item_reason"], pos, state["name"])  # a state with no way on
            t = chosen[0]
            args = [flags[b["index"]] for b in t["args"]]
            value, pos = self.decode_struct(t["struct"], data, pos, end, args)
            if frame is not None and pos != end:
                raise DecodeFailure(frame["trailing_reason"], pos, t["struct"])
            if state["trailing"] is not None and pos != len(data):
                raise DecodeFailure(state["trailing"], pos, t["struct"])
            if pos == start:
                raise DecodeFailure(st["empty_item_reason"], pos, t["struct"])
            if t["binds_flags"]:
                first = self.structs[t["struct"]]["fields"][0]["var"]
                code = int(value[first.removeprefix("v_")])
                flags = self.variant_flags(t["struct"], code) or []
            items.append((t["struct"], value))
            state = states[t["next"]]

    def encode_stream(self, name: str, items: list[tuple[str, dict[str, Any]]]) -> bytes:
        st = self.streams[name]
        states = {s["name"]: s for s in st["states"]}
        state = states[st["initial"]]
        flags: list[bool] = []
        out = bytearray()
        for struct, value in items:
            chosen = [t for t in state["transitions"] if t["struct"] == struct]
            if not chosen:
                raise EncodeFailure(f"{struct} cannot come in state {state['name']}")
            t = chosen[0]
            body = self.encode_whole(struct, value, [flags[b["index"]] for b in t["args"]])
            frame = state["frame"]
            if frame is not None:
                if len(body) > frame["max_length"]:
                    raise EncodeFailure("body over the limit")
                self.write_int(out, t["codes"][0], frame["type"])
                self.write_int(out, len(body), frame["length"])
            out += body
            if t["binds_flags"]:
                first = self.structs[struct]["fields"][0]["name"]
                flags = self.variant_flags(struct, int(value[first])) or []
            state = states[t["next"]]
        return bytes(out)
