"""One Go package per wire protocol (`wire/<name>`): a renderer of the codec plan (ir/plan.py).

Each op of a struct's plan becomes its few lines of straight-line Go; each stream's state
machine becomes a table (states, steps, frame, limits, reasons) that the runtime's one generic
parser and encoders run (internal/rt/stream.go). The order of reads and checks, the reasons,
the limits and the stream grammars come from the plan; only the spelling is decided here (and
which failures the Go runtime's reader raises itself, whose reasons must be the plan's).
Conditional fields are pointers (nil = absent); integers are uint64.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...ir import plan
from ...ir.model import WireField, WireProtocol, WireStream, WireStruct, WireType
from ..common import INT_MAX, INT_SIZE, WireGenError, plan_cond_text
from ..wire_render import Operators, ProtocolView, check_test, cond_test, loop_item, read_fields, split_fields
from .namer import GoNamer
from .text import Code, go_string


def _unparen(v: str) -> str:
    return v[1:-1] if v.startswith("(*") and v.endswith(")") else v


def _hex(n: int) -> str:
    return hex(n) if n > 9 else str(n)


GO_OPERATORS = Operators(
    literal=_hex,
    member=lambda v, values: " || ".join(f"{v} == {_hex(x)}" for x in values),
    outside_mask="{a}&^{b} != 0",
    parity="{a}%2 == {b}",
)


class WireEmitter:
    def __init__(self, p: WireProtocol, namer: GoNamer, module: str, runtime_max_buffer: int) -> None:
        """`runtime_max_buffer`: the runtime's DefaultMaxBuffer (a protocol with another bound spells its own)."""
        self.p = p
        self.runtime_max_buffer = runtime_max_buffer
        self.n = namer
        self.module = module
        self.view = ProtocolView(p, "go")
        self.plan = self.view.plan
        self.pkg = namer.package(p["words"])
        self.written: set[str] = set()  # the stream step functions written so far
        self.binds: dict[str, str | None] = {}  # a step's read function: the flags it returns

    # ---- names ----
    def t(self, struct: str) -> str:
        return self.n.type_name(self.view.struct_words(struct))

    def fname(self, f: WireField) -> str:
        return self.n.field_name(f["words"])

    def code_name_fn(self, code_set: str) -> str:
        """The function naming a code set's values (`is<it>` tests one)."""
        return self.n.exported([*self.view.code_words(code_set), "name"])

    def arg(self, name: str) -> str:
        return self.n.local(["arg", *name.split("_")])

    def flag(self, name: str) -> str:
        return "fl." + self.n.exported(name.split("_"))

    def go_type_desc(self, t: plan.TypeDesc) -> str:
        if t.kind == "int":
            return "uint64"
        if t.kind == "bytes":
            return "[]byte"
        if t.kind == "string":
            return "string"
        if t.kind == "struct":
            return self.t(str(t.struct))
        assert t.element is not None
        return "[]" + self.go_type_desc(t.element)

    def args_params(self, s: WireStruct) -> str:
        return "".join(f", {self.arg(a)} bool" for a in s["args"])

    def args_pass(self, s: WireStruct) -> str:
        return "".join(f", {self.arg(a)}" for a in s["args"])

    # ---- file ----
    def emit(self) -> tuple[list[str], str]:
        """The package doc lines and the body (after the imports)."""
        c = Code()
        p = self.p
        doc = Code()
        doc.doc(
            0,
            f"Package {self.pkg} is the wire protocol {p['name']} (family {p['family']}, version "
            f"{hex(p['version'])}): {p['doc']}",
        )
        doc.add(0, "//")
        doc.doc(
            0,
            "Decode<Struct> decodes a whole input (leftover bytes are trailing_bytes); AppendWire "
            "encodes and refuses values their declaration forbids (*EncodeError). MarshalJSON and "
            "UnmarshalJSON use the golden vectors' value format. Decoding returns only *DecodeError. "
            "Conditional fields are pointers: nil when the field is absent.",
        )
        c.add(0, "// Family is the protocol family.")
        c.add(0, f"const Family = {go_string(p['family'])}")
        c.add(0, "")
        c.add(0, "// Version is the protocol version.")
        c.add(0, f"const Version uint64 = {hex(p['version'])}")
        c.add(0, "")
        c.add(0, "// ALPN is the protocol's ALPN string (empty when it has none).")
        c.add(0, f"const ALPN = {go_string(p['alpn'] or '')}")
        c.add(0, "")
        c.add(0, "// Value is any struct of this package.")
        c.add(0, "type Value = rt.Value")
        c.add(0, "")
        c.add(0, "// Parser is an incremental stream parser.")
        c.add(0, "type Parser = rt.Parser")
        c.add(0, "")
        c.add(0, "// StructCodec is a by-name registry entry of a struct.")
        c.add(0, "type StructCodec = rt.StructCodec")
        c.add(0, "")
        c.add(0, "// StreamCodec describes one stream grammar.")
        c.add(0, "type StreamCodec = rt.StreamCodec")
        c.add(0, "")
        for cs in p["codes"]:
            self.code_set(c, cs)
        for s in p["structs"]:
            self.struct(c, s)
        for st in p["streams"]:
            self.stream(c, st)
        self.registry(c)
        return [line[3:] if line.startswith("// ") else "" for line in doc.lines], "\n".join(c.lines)

    def code_set(self, c: Code, cs: Any) -> None:
        c.add(0, f"// The codes of {cs['name']}.")
        c.add(0, "const (")
        for i, v in enumerate(cs["values"]):
            if i:
                c.add(0, "")
            c.doc(1, f"{self.n.code_const(cs['words'], v['words'])} ({cs['name']}): {v['doc']}", 92)
            c.add(1, f"{self.n.code_const(cs['words'], v['words'])} uint64 = {_hex(v['value'])}")
        c.add(0, ")")
        c.add(0, "")
        fn = self.code_name_fn(cs["name"])
        c.doc(0, f"{fn} is the IDL name of a {cs['name']} value ({'closed' if cs['closed'] else 'open'}): {cs['doc']}")
        c.add(0, f"func {fn}(v uint64) (string, bool) {{")
        c.switch("v", ((_hex(v["value"]), go_string(v["name"]) + ", true") for v in cs["values"]), '"", false')
        c.close()
        c.add(0, f"func is{fn}(v uint64) bool {{")
        c.add(1, f"_, ok := {fn}(v)")
        c.add(1, "return ok")
        c.close()

    # ---- structs ----
    def struct(self, c: Code, s: WireStruct) -> None:
        t = self.t(s["name"])
        c.doc(0, f"{t}: {s['doc']}")
        if s["args"]:
            c.doc(0, f"Args (passed in by the stream): {', '.join(s['args'])}.")
        c.add(0, f"type {t} struct {{")
        sp = self.view.struct_plans[s["name"]]
        for f, pf in zip(s["fields"], sp.fields, strict=True):
            doc = f["doc"] + (" Conditional: nil when absent." if pf.cond else "")
            c.doc(1, f"{self.fname(f)} ({f['name']}): {doc}")
            c.add(1, f"{self.fname(f)} {'*' if pf.cond else ''}{self.go_type_desc(pf.type)}")
            c.add(0, "")
        if c.lines[-1] == "":
            c.lines.pop()
        c.close()
        c.add(0, "// WireName is the IDL name of the struct.")
        c.add(0, f"func (s *{t}) WireName() string {{")
        c.add(1, f"return {go_string(s['name'])}")
        c.close()
        consts = [(f, pf.initial) for f, pf in zip(s["fields"], sp.fields, strict=True) if pf.initial is not None]
        if consts:
            # The zero value would fail to encode: offer a value with the constants already set.
            c.add(0, f"// New{t} returns a {t} with its constant fields set; the zero value fails to encode.")
            c.add(0, f"func New{t}() *{t} {{")
            sets = ", ".join(f"{self.fname(f)}: {_hex(initial)}" for f, initial in consts)
            c.add(1, f"return &{t}{{{sets}}}")
            c.close()
        if s["variants"]:
            self.variants(c, s, t)
        self.decode(c, s, t)
        self.encode(c, s, t)
        self.to_json(c, s, t)
        self.from_json(c, s, t)

    def variants(self, c: Code, s: WireStruct, t: str) -> None:
        ft = t + "Flags"
        c.add(0, f"// {ft} are the flags a {s['name']} type code stands for.")
        c.add(0, f"type {ft} struct {{")
        for i, fl in enumerate(s["flags"]):
            if i:
                c.add(0, "")
            c.add(1, f"{self.n.exported(fl.split('_'))} bool")
        c.close()
        c.add(0, f"func flags{t}(code uint64) ({ft}, bool) {{")
        flags = [
            [f"{self.n.exported(k.split('_'))}: {str(bool(v['flags'].get(k))).lower()}" for k in s["flags"]]
            for v in s["variants"]
        ]
        cases = ((_hex(v["code"]), f"{ft}{{{', '.join(f)}}}, true") for v, f in zip(s["variants"], flags, strict=True))
        c.switch("code", cases, f"{ft}{{}}, false")
        c.close()
        c.add(0, "// TypeFlags are the flags of the struct's type code; false for a code it does not define.")
        c.add(0, f"func (s *{t}) TypeFlags() ({ft}, bool) {{")
        c.add(1, f"return flags{t}(s.{self.fname(s['fields'][0])})")
        c.close()

    def ref(self, name: str) -> str:
        """The local holding an integer field that a later length, count or condition reads."""
        return self.n.local(["f", *name.split("_")])

    # ---- struct codecs: the plan's ops, spelled in Go ----
    def decode(self, c: Code, s: WireStruct, t: str) -> None:
        sp = self.view.struct_plans[s["name"]]
        args = self.args_params(s)
        c.add(0, f"// Decode{t} decodes all of b as one {s['name']}; errors are *DecodeError.")
        c.add(0, f"func Decode{t}(b []byte{args}) (*{t}, error) {{")
        c.add(1, "r := &rt.Reader{Buf: b}")
        c.add(1, f"s := new({t})")
        c.on_err(1, "nil, err", call=f"s.decodeFrom(r, len(b){self.args_pass(s)})")
        _runtime_reason(sp.whole_reason, "trailing_bytes", "r.Trailing")
        c.on_err(1, "nil, err", call=f'r.Trailing(len(b), "{s["name"]}")')
        c.add(1, "return s, nil")
        c.close()
        c.add(0, f"func (s *{t}) decodeFrom(r *rt.Reader, end int{args}) error {{")
        _Decoder(self, s, sp).fields(c)
        c.add(1, "return nil")
        c.close()

    def encode(self, c: Code, s: WireStruct, t: str) -> None:
        sp = self.view.struct_plans[s["name"]]
        args = self.args_params(s)
        c.add(0, "// MarshalWire encodes s; errors are *EncodeError.")
        c.add(0, f"func (s *{t}) MarshalWire({args.lstrip(', ')}) ([]byte, error) {{")
        c.add(1, f"return s.AppendWire(nil{self.args_pass(s)})")
        c.close()
        body = Code()
        _Encoder(self, s, sp).fields(body)
        c.add(0, "// AppendWire appends the wire bytes of s to b; errors are *EncodeError.")
        c.add(0, f"func (s *{t}) AppendWire(b []byte{args}) ([]byte, error) {{")
        if any("err" in line for line in body.lines):
            c.add(1, "var err error")
        c.lines.extend(body.lines)
        c.add(1, "return b, nil")
        c.close()

    # ---- JSON (vector value format) ----
    def json_value(self, c: Code, ind: int, t: WireType, v: str, fresh: Callable[[str], str]) -> None:
        k = t["type"]
        if k in INT_MAX:
            c.add(ind, f"b = rt.AppendWireInt(b, {v})")
        elif k == "bytes":
            c.add(ind, f"b = rt.AppendHex(b, {v})")
        elif k == "string":
            c.add(ind, f"b = rt.AppendString(b, {v})")
        elif k == "struct":
            c.add(ind, f"b = {v}.appendJSON(b)")
        else:
            assert t["element"] is not None
            i, x = fresh("i"), fresh("x")
            c.add(ind, "b = append(b, '[')")
            c.add(ind, f"for {i}, {x} := range {_unparen(v)} {{")
            c.add(ind + 1, f"if {i} > 0 {{")
            c.add(ind + 2, "b = append(b, ',')")
            c.add(ind + 1, "}")
            self.json_value(c, ind + 1, t["element"], x, fresh)
            c.add(ind, "}")
            c.add(ind, "b = append(b, ']')")

    def to_json(self, c: Code, s: WireStruct, t: str) -> None:
        c.add(0, "// MarshalJSON writes the vector value format (absent conditional fields are left out).")
        c.add(0, f"func (s {t}) MarshalJSON() ([]byte, error) {{")
        c.add(1, "return s.appendJSON(nil), nil")
        c.close()
        fresh = Code().fresh
        c.add(0, f"func (s *{t}) appendJSON(b []byte) []byte {{")
        c.add(1, "start := len(b)")
        c.add(1, "b = append(b, '{')")
        for f in s["fields"]:
            fn = "s." + self.fname(f)
            key = f"b = append(b, {go_string(',' + go_string(f['name']) + ':')}...)"
            if f["when"] is None:
                c.add(1, key)
                self.json_value(c, 1, f["type"], fn, fresh)
            else:
                c.add(1, f"if {fn} != nil {{")
                c.add(2, key)
                self.json_value(c, 2, f["type"], f"(*{fn})", fresh)
                c.add(1, "}")
        c.add(1, "return rt.CloseObject(b, start)")
        c.close()

    def json_read(self, c: Code, ind: int, t: WireType, src: str, where: str, fresh: Callable[[str], str]) -> str:
        k = t["type"]
        v = fresh("j")
        if k in INT_MAX or k in ("bytes", "string"):
            fn = "rt.WireInt" if k in INT_MAX else ("rt.WireHex" if k == "bytes" else "rt.WireText")
            c.add(ind, f'{v}, err := {fn}({src}, "{where}")')
            c.on_err(ind)
            return v
        if k == "struct":
            c.add(ind, f"var {v} {self.t(str(t['struct']))}")
            c.on_err(ind, call=f'{v}.fromJSON({src}, "{where}")')
            return v
        assert t["element"] is not None
        arr = fresh("arr")
        c.add(ind, f'{arr}, err := rt.Array({src}, "{where}")')
        c.on_err(ind)
        c.add(ind, f"{v} := {self.go_type_desc(plan.type_desc(t))}{{}}")
        el = fresh("el")
        c.add(ind, f"for _, {el} := range {arr} {{")
        x = self.json_read(c, ind + 1, t["element"], el, where + "[]", fresh)
        c.add(ind + 1, f"{v} = append({v}, {x})")
        c.add(ind, "}")
        return v

    def from_json(self, c: Code, s: WireStruct, t: str) -> None:
        name = s["name"]
        c.add(0, "// UnmarshalJSON reads the vector value format; errors are *DecodeError (invalid_json).")
        c.add(0, f"func (s *{t}) UnmarshalJSON(data []byte) error {{")
        c.add(1, "v, err := rt.ParseJSON(data)")
        c.on_err(1)
        c.add(1, f"*s = {t}{{}}")
        c.add(1, f'return s.fromJSON(v, "{name}")')
        c.close()
        fresh = Code().fresh
        names = ", ".join(go_string(f["name"]) for f in s["fields"])
        c.add(0, f"func (s *{t}) fromJSON(v any, where string) error {{")
        c.add(1, f"m, err := rt.WireObj(v, where{', ' + names if names else ''})")
        c.on_err(1)
        for f in s["fields"]:
            fn = "s." + self.fname(f)
            where = f"{name}.{f['name']}"
            if f["when"] is None:
                src = fresh("src")
                c.add(1, f'{src}, err := rt.WireField(m, {go_string(f["name"])}, "{name}")')
                c.on_err(1)
                x = self.json_read(c, 1, f["type"], src, where, fresh)
                c.add(1, f"{fn} = {x}")
            else:
                src = fresh("src")
                c.add(1, f"if {src} := m[{go_string(f['name'])}]; {src} != nil {{")
                x = self.json_read(c, 2, f["type"], src, where, fresh)
                c.add(2, f"{fn} = &{x}")
                c.add(1, "}")
        c.add(1, "return nil")
        c.close()

    # ---- streams: a table per stream, run by the runtime's StreamParser (internal/rt/stream.go) ----
    def stream(self, c: Code, st: WireStream) -> None:
        sp = self.view.stream_plans[st["name"]]
        name, ptype, table = (
            st["name"],
            self.n.exported([*st["words"], "parser"]),
            self.table(st),
        )
        states = sorted(sp.states, key=lambda x: x.name != sp.initial)  # the runtime starts at the first
        index = {x.name: i for i, x in enumerate(states)}
        c.add(0, f"// ---- stream {name} ({sp.kind}) ----")
        c.add(0, "")
        steps = {x.name: [self.step(c, sp, x, tr) for tr in x.transitions] for x in states}
        item = "object" if sp.kind == "header_objects" else "message"
        head = [f"Name: {go_string(name)}", f"Item: {go_string(item)}", f"EmptyItem: {_reason(sp.empty_item_reason)}"]
        c.add(
            0, f"var {table} = rt.Stream{{{', '.join(head)}, Buffer: {_reason(sp.buffer_reason)}, States: []rt.State{{"
        )
        for x in states:
            fields = [f"Peek: {_width(x.peek)}", f"Unknown: {_reason(x.unknown_reason)}"] if x.peek else []
            if f := x.frame:
                fields.append(
                    f"Frame: &rt.Frame{{Type: {_width(f.type)}, Length: {_width(f.length)}, MaxLength: {f.max_length}, "
                    f"Unknown: {_reason(f.unknown_reason)}, TooLarge: {_reason(f.too_large_reason)}, "
                    f"PastEnd: {_reason(f.past_end_reason)}, Trailing: {_reason(f.trailing_reason)}}}"
                )
            fields += [f"AtEnd: {_reason(x.at_end)}"] if x.at_end != "accept" else []
            fields += [f"Trailing: {_reason(x.trailing)}"] if x.trailing else []
            rows = []
            for tr, (read, write) in zip(x.transitions, steps[x.name], strict=True):
                codes = "" if tr.codes is None else "Codes: []uint64{" + ", ".join(map(_hex, tr.codes)) + "}, "
                step = f"Struct: {go_string(tr.struct)}, Read: {read}, Write: {write}, Next: {index[tr.next]}"
                rows.append(f"{{{codes}{step}}},")
            c.add(1, "{" + ", ".join([*fields, "Steps: []rt.Step{"]) + ("" if rows else "}},"))
            for row in rows:
                c.add(2, row)
            if rows:
                c.add(1, "}},")
        c.add(0, "}}.Build()")
        c.add(0, "")
        c.doc(0, f"{ptype} is the incremental parser of the {name} stream: {st['doc']}")
        c.add(0, f"type {ptype} struct {{")
        c.add(1, "rt.StreamParser")
        c.close()
        bound = "rt.DefaultMaxBuffer" if self.plan.max_buffer == self.runtime_max_buffer else str(self.plan.max_buffer)
        enc, first = "Encode" + self.n.exported(st["words"]), states[0].transitions[0]
        message = f"(m *{self.t(first.struct)})", f"m.AppendWire(nil{self.args_for(first.struct, None)})"
        functions = {
            "framed": [
                (
                    f"{enc}As encodes msg as a {name} message of type code.",
                    "As(code uint64, msg Value)",
                    ".EncodeAs(code, msg)",
                ),
                (
                    f"{enc} encodes msg with its type code (an error when its struct serves several codes).",
                    "(msg Value)",
                    ".Encode(msg)",
                ),
            ],
            "header_objects": [
                (
                    f"{enc} encodes a whole {name} stream: the header, then each object.",
                    "(header Value, objects ...Value)",
                    ".EncodeObjects(header, objects...)",
                ),
            ],
            "datagram": [(f"{enc} is the datagram carrying m.", *message)],
            "sequence": [(f"{enc} encodes one message of the {name} stream.", *message)],
        }[sp.kind]
        c.add(0, f"// New{ptype} returns a parser at the start of a stream.")
        c.add(0, f"func New{ptype}() *{ptype} {{")
        c.add(1, f"return &{ptype}{{rt.StreamParser{{Stream: {table}, MaxBuffer: {bound}}}}}")
        c.close()
        for doc, params, body in functions:
            c.add(0, "// " + doc)
            c.add(0, f"func {enc}{params} ([]byte, error) {{")
            c.add(1, "return " + (table + body if body.startswith(".") else body))
            c.close()

    def table(self, st: WireStream) -> str:
        """The variable holding a stream's table."""
        return self.n.local([*st["words"], "stream"])

    def header_flags(self, header: str) -> str | None:
        """A header's flags (hf, from its TypeFlags) as the runtime's bits (bit i: the plan's flag index
        i), taken once by the header's step: only the flags that the steps after it take as args (None:
        none)."""
        used = {
            b.index: b.flag
            for sp in self.view.stream_plans.values()
            for x in sp.states
            if any(h.struct == header and h.binds_flags and h.next == x.name for y in sp.states for h in y.transitions)
            for tr in x.transitions
            for b in tr.args
        }
        bits = [f"rt.FlagIf(hf.{self.n.exported(flag.split('_'))}, {i})" for i, flag in sorted(used.items())]
        return " | ".join(bits) or None

    def step(self, c: Code, sp: plan.StreamPlan, state: plan.StreamState, tr: plan.Transition) -> tuple[str, str]:
        """The read and write functions of a step's struct, written once per struct and header it is bound
        to. They return the flags for the steps after them: a binding header's own, else those passed in."""
        header = (
            next((h.struct for x in sp.states for h in x.transitions if h.next == state.name and h.binds_flags), None)
            if tr.args
            else None
        )
        bind = self.header_flags(tr.struct) if tr.binds_flags else None
        words = self.view.struct_words(tr.struct) + (["in", *self.view.struct_words(header)] if header else [])
        read, write = self.n.local(["read", *words]), self.n.local(["write", *words])
        if self.binds.setdefault(read, bind) != bind:
            raise WireGenError(f"go: {tr.struct} binds a header's flags in one stream step and not in another")
        if read in self.written:
            return read, write
        self.written.add(read)
        t, args = self.t(tr.struct), self.args_for(tr.struct, tr.args)
        fl, out, flags = ("_", bind, ["hf, _ := s.TypeFlags()"]) if bind else ("fl", "fl", [])
        c.add(0, f"func {read}(r rt.Reader, end int, {fl} rt.Flags) (Value, int, rt.Flags, error) {{")
        for line in [f"s := new({t})", f"err := s.decodeFrom(&r, end{args})", *flags, f"return s, r.Pos, {out}, err"]:
            c.add(1, line)
        c.close()
        c.add(0, f"func {write}(b []byte, v Value, fl rt.Flags) ([]byte, rt.Flags, error) {{")
        c.add(1, f"s, ok := v.(*{t})")
        c.add(1, "if !ok {")
        c.add(2, "return b, fl, rt.ErrOtherStruct")
        c.add(1, "}")
        for line in [f"b, err := s.AppendWire(b{args})", *flags, f"return b, {out}, err"]:
            c.add(1, line)
        c.close()
        return read, write

    def args_for(self, struct: str, bound: tuple[plan.ArgBinding, ...] | None) -> str:
        """A struct's args as passed by a stream: the header's flag (the bits its Bind gave) where the
        plan binds one, else false."""
        flags = {b.arg: f"fl.Has({b.index})" for b in bound or ()}
        return "".join(", " + flags.get(a, "false") for a in self.view.structs[struct]["args"])

    # ---- registry ----
    def registry(self, c: Code) -> None:
        p = self.p
        for s in p["structs"]:
            t = self.t(s["name"])
            argv = "".join(f", args[{go_string(a)}]" for a in s["args"])
            c.add(0, f"func decodeAny{t}(b []byte, args map[string]bool) (Value, error) {{")
            if not s["args"]:
                c.add(1, "_ = args")
            c.add(1, f"return Decode{t}(b{argv})")
            c.close()
            c.add(0, f"func encodeAny{t}(v Value, args map[string]bool) ([]byte, error) {{")
            if not s["args"]:
                c.add(1, "_ = args")
            c.add(1, f"s, ok := v.(*{t})")
            c.add(1, "if !ok {")
            c.add(2, f'return nil, rt.EncErrf("expected a {s["name"]}, got %s", v.WireName())')
            c.add(1, "}")
            c.add(1, f"return s.AppendWire(nil{argv})")
            c.close()
        c.add(0, "// Structs lists a by-name codec for every struct, in IDL order.")
        c.add(0, "var Structs = []StructCodec{")
        for s in p["structs"]:
            t = self.t(s["name"])
            args = "nil" if not s["args"] else "[]string{" + ", ".join(go_string(a) for a in s["args"]) + "}"
            c.add(
                1,
                f"{{Protocol: {go_string(p['name'])}, Name: {go_string(s['name'])}, Args: {args}, "
                f"Decode: decodeAny{t}, Encode: encodeAny{t}, FromJSON: rt.FromJSON[{t}]}},",
            )
        c.close()
        c.add(0, "// Streams lists every stream grammar, in IDL order.")
        c.add(0, "var Streams = []StreamCodec{")
        for st in p["streams"]:
            ptype = self.n.exported([*st["words"], "parser"])
            c.add(
                1,
                f"{{Protocol: {go_string(p['name'])}, Name: {go_string(st['name'])}, "
                f"Kind: {go_string(st['kind'])}, NewParser: func() Parser {{ return New{ptype}() }}, "
                f"Encode: {self.table(st)}.EncodeItems}},",
            )
        c.add(0, "}")


def _width(width: str) -> str:
    return "rt.Varint" if width == "varint" else str(INT_SIZE[width])


def _reason(reason: str) -> str:
    return "rt.Reason" + "".join(w.capitalize() for w in reason.split("_"))


def _runtime_reason(wanted: str, runtime: str, helper: str) -> None:
    """Some failures are raised by the Go runtime's reader (`helper`), which reports `runtime`;
    a plan asking for another reason there cannot be rendered without changing the runtime."""
    if wanted != runtime:
        raise WireGenError(f"go: {helper} fails with {runtime}, the plan asks for {wanted}")


class _Codec:
    """What decoding and encoding one struct's plan share: slot names, conditions, operands."""

    def __init__(self, e: WireEmitter, s: WireStruct, sp: plan.StructPlan) -> None:
        self.e = e
        self.s = s
        self.sp = sp
        self.fresh = Code().fresh
        self.names: dict[str, str] = {"end": "end"}
        self.attr = {f["name"]: "s." + e.fname(f) for f in s["fields"]}

    def slot_flag(self, slot: str) -> str:
        """A flag or arg slot (`f_<name>`) in Go: the struct's parameter or the variant's flag."""
        name = slot.removeprefix("f_")
        return self.e.arg(name) if name in self.sp.args else self.e.flag(name)

    def cond(self, c: plan.Cond) -> str:
        # no test of a conditional field: Go keeps an absent field as 0, which would pass a test the plan fails
        return cond_test(c, GO_OPERATORS, lambda flag: self.slot_flag("f_" + flag), self.e.ref)

    def operand(self, o: plan.Operand) -> str:
        """A uint64 (or int, for `len`) expression."""
        if isinstance(o, plan.Var):
            return self.names[o.name]
        if isinstance(o, plan.FieldValue):
            if o.optional:
                raise WireGenError(f"go: {self.s['name']}: a length taken from the conditional field {o.field}")
            return self.e.ref(o.field)
        if isinstance(o, plan.Const):
            return f"uint64({o.value})"
        if isinstance(o, plan.Remaining):
            return f"uint64({self.names[o.end]}-r.Pos)"
        return f"len({self.names[o.name]})"

    def struct_args(self, args: tuple[str, ...]) -> str:
        return "".join(", " + self.slot_flag(a) for a in args)

    def check(self, c: Code, ind: int, op: plan.Check, fail: str) -> None:
        """An integer constraint; `fail` formats the error return from a message and its args."""
        v = self.names[op.var]
        test, words = check_test(op, v, GO_OPERATORS, lambda codes, x: f"!is{self.e.code_name_fn(codes)}({x})")
        c.add(ind, f"if {test} {{")
        c.add(ind + 1, fail.format(msg=f"{op.where}: {'%#x' if op.test == 'mask' else '%d'} {words}", args=", " + v))
        c.add(ind, "}")

    def variant(self, c: Code, ind: int, op: plan.Variant, fail: str) -> None:
        t = self.e.t(op.struct)
        v = self.names[op.var]
        c.add(ind, f"fl, ok := flags{t}({v})")
        c.add(ind, "if !ok {")
        c.add(ind + 1, fail.format(msg=f"{op.struct}: unknown type %#x", args=", " + v))
        c.add(ind, "}")
        if not any(f.used for f in op.flags):
            c.add(ind, "_ = fl")


class _Decoder(_Codec):
    """A struct's decode ops as Go. Temporaries are named as this target always named them (a
    `t` per value, then an `o` for an integer, `e` and `n` for its frame and lengths, an `i`
    per counted loop), so a value's names are taken before its ops are written."""

    def name_value(self, ops: list[plan.Op], target: str) -> None:
        self.names[target] = self.fresh("t")
        kind = next(op for op in ops if getattr(op, "var", None) == target and not isinstance(op, plan.Mark))
        if isinstance(kind, plan.ReadInt):
            o = self.fresh("o")
            for op in ops:
                if isinstance(op, plan.Mark) and op.var != target + "_at":
                    self.names[op.var] = o
            return
        for op in ops:
            if isinstance(op, plan.OpenFrame):
                self.names[op.var] = self.fresh("e")
        for op in ops:
            if isinstance(op, plan.ReadInt):
                self.names[op.var] = self.fresh("n")
        if isinstance(kind, (plan.ReadBytes, plan.ReadFixed)) and kind.utf8:
            self.names[target + "#text"] = self.fresh("t")
        for op in ops:
            if isinstance(op, plan.Repeat):
                self.names[f"#loop{id(op)}"] = self.fresh("i")
            if isinstance(op, (plan.Repeat, plan.UntilEnd)):
                item = loop_item(op.body)
                self.name_value(item[1], item[0])

    def final(self, target: str) -> str:
        """The Go variable holding a decoded value (a string's, after its UTF-8 check)."""
        return self.names.get(target + "#text", self.names[target])

    def fields(self, c: Code) -> None:
        refs = read_fields(self.sp.decode)
        for begin, ops in split_fields(self.sp.decode):
            fn = self.attr[begin.field]
            ref = self.e.ref(begin.field) if begin.field in refs else None
            variant = [op for op in ops if isinstance(op, plan.Variant)]
            ops = [op for op in ops if not isinstance(op, plan.Variant)]
            if len(ops) == 1 and isinstance(ops[0], plan.Optional):
                opt = ops[0]
                if ref:
                    c.add(1, f"var {ref} uint64")
                c.add(1, f"if {self.cond(opt.cond)} {{")
                self.name_value(list(opt.body), opt.item)
                self.value(c, 2, opt.item, list(opt.body))
                c.add(2, f"{fn} = &{self.final(opt.item)}")
                if ref:
                    c.add(2, f"{ref} = {self.final(opt.item)}")
                c.add(1, "}")
            else:
                self.name_value(ops, begin.var)
                self.value(c, 1, begin.var, ops)
                c.add(1, f"{fn} = {self.final(begin.var)}")
                if ref:
                    c.add(1, f"{ref} := {self.final(begin.var)}")
            self.names[begin.var] = fn
            for op in variant:
                self.variant(c, 1, op, "return rt.Errf(" + _reason(op.reason) + ', r.Offset(r.Pos), "{msg}"{args})')

    def fail(self, c: Code, ind: int, reason: str, msg: str, args: str = "") -> None:
        c.add(ind + 1, f'return rt.Errf({_reason(reason)}, r.Offset(r.Pos), "{msg}"{args})')
        c.add(ind, "}")

    def ops(self, c: Code, ind: int, ops: tuple[plan.Op, ...] | list[plan.Op]) -> None:
        n = self.names
        for op in ops:
            if isinstance(op, plan.Mark):
                if op.var in n:  # Go reports an offset where an integer began; a list's start it does not
                    c.add(ind, f"{n[op.var]} := r.Pos")
            elif isinstance(op, plan.ReadInt):
                _runtime_reason(op.error, "truncated", "r.Varint")
                read = "r.Varint(" if op.width == "varint" else f"r.Uint({INT_SIZE[op.width]}, "
                c.add(ind, f"{n[op.var]}, err := {read}{n[op.end]})")
                c.on_err(ind)
            elif isinstance(op, plan.Check):
                fail = "return rt.Errf(" + _reason(op.reason) + ", r.Offset(" + n[str(op.at)] + '), "{msg}"{args})'
                self.check(c, ind, op, fail)
            elif isinstance(op, plan.Limit):
                subject = self.operand(op.subject)
                c.add(ind, f"if {subject} > {op.limit} {{")
                self.fail(c, ind, op.reason, f"{op.where}: %d {op.unit}, at most {op.limit}", ", " + subject)
            elif isinstance(op, (plan.ReadBytes, plan.ReadFixed)):
                if isinstance(op, plan.ReadFixed):
                    _runtime_reason(op.error, "truncated", "r.Fixed")
                    c.add(ind, f"{n[op.var]}, err := r.Fixed({op.size}, {n[op.end]})")
                else:
                    _runtime_reason(op.error, "length_past_end", "r.Raw")
                    c.add(ind, f"{n[op.var]}, err := r.Raw({self.operand(op.length)}, {n[op.end]})")
                c.on_err(ind)
                if op.utf8:
                    _runtime_reason(op.utf8_error, "invalid_utf8", "r.Text")
                    c.add(ind, f"{n[op.var + '#text']}, err := r.Text({n[op.var]})")
                    c.on_err(ind)
            elif isinstance(op, plan.OpenFrame):
                if isinstance(op.length, plan.Remaining):
                    c.add(ind, f"{n[op.var]} := {n[op.end]}")
                else:
                    _runtime_reason(op.error, "length_past_end", "r.SubEnd")
                    c.add(ind, f'{n[op.var]}, err := r.SubEnd({self.operand(op.length)}, {n[op.end]}, "{op.where}")')
                    c.on_err(ind)
            elif isinstance(op, plan.ExpectEnd):
                _runtime_reason(op.reason, "trailing_bytes", "r.Trailing")
                c.on_err(ind, call=f'r.Trailing({n[op.end]}, "{op.where}")')
            elif isinstance(op, plan.DecodeStruct):
                c.on_err(ind, call=f"{n[op.var]}.decodeFrom(r, {n[op.end]}{self.struct_args(op.args)})")
            elif isinstance(op, plan.NewList):
                c.add(ind, f"var {n[op.var]} {self.e.go_type_desc(op.type)}")
            elif isinstance(op, plan.MinCount):
                c.add(ind, f"if {self.operand(op.subject)} < {op.min} {{")
                self.fail(c, ind, op.reason, f"{op.where}: too few elements")
            elif isinstance(op, plan.Need):
                _runtime_reason(op.error, "truncated", "r.NeedCount")
                call = f'r.NeedCount({self.operand(op.count)}, {op.min_bytes}, {n[op.end]}, "{op.where}")'
                c.on_err(ind, call=call)
            elif isinstance(op, plan.Room):
                c.add(ind, f"if len({n[op.list]}) >= {op.max} {{")
                self.fail(c, ind, op.reason, f"{op.where}: more than {op.max} elements")
            elif isinstance(op, plan.Repeat):
                i = n[f"#loop{id(op)}"]
                c.add(ind, f"for {i} := uint64(0); {i} < {self.operand(op.count)}; {i}++ {{")
                self.body(c, ind + 1, op.body)
                c.add(ind, "}")
            elif isinstance(op, plan.UntilEnd):
                c.add(ind, f"for r.Pos < {n[op.end]} {{")
                self.body(c, ind + 1, op.body)
                c.add(ind, "}")
            elif isinstance(op, plan.Append):
                c.add(ind, f"{n[op.list]} = append({n[op.list]}, {self.final(op.item)})")
            else:
                raise WireGenError(f"go: {self.s['name']}: {op.op} is not rendered here")

    def body(self, c: Code, ind: int, body: tuple[plan.Op, ...]) -> None:
        """A loop body: the room check, the element's value (named with its list), the append."""
        item, element = loop_item(body)
        self.ops(c, ind, [op for op in body if isinstance(op, plan.Room)])
        self.value(c, ind, item, element)
        self.ops(c, ind, [op for op in body if isinstance(op, plan.Append)])

    def value(self, c: Code, ind: int, target: str, ops: list[plan.Op]) -> None:
        """One value's ops; a struct value is declared first, ahead of its frame."""
        for op in ops:
            if isinstance(op, plan.DecodeStruct) and op.var == target:
                c.add(ind, f"var {self.names[target]} {self.e.t(op.struct)}")
        self.ops(c, ind, ops)


class _Encoder(_Codec):
    """A struct's encode ops as Go: everything is appended to `b`; a length-prefixed struct is
    encoded on its own first, a length-prefixed list by swapping `b` for an empty buffer."""

    def __init__(self, e: WireEmitter, s: WireStruct, sp: plan.StructPlan) -> None:
        super().__init__(e, s, sp)
        self.open: dict[str, str] = {}  # an element buffer being written: its slot -> the outer b

    def err(self, msg: str, *args: str) -> str:
        return f'return b, rt.EncErrf("{msg}"{"".join(", " + a for a in args)})'

    def fields(self, c: Code) -> None:
        refs = read_fields(self.sp.encode)
        for begin, ops in split_fields(self.sp.encode):
            fn = self.attr[begin.field]
            self.names[begin.var] = fn
            ref = self.e.ref(begin.field) if begin.field in refs else None
            if not begin.optional and ref:
                c.add(1, f"{ref} := {fn}")
            elif ref:
                c.add(1, f"var {ref} uint64")
                c.add(1, f"if {fn} != nil {{")
                c.add(2, f"{ref} = *{fn}")
                c.add(1, "}")
            self.ops(c, 1, ops)

    def close(self, c: Code, ind: int, slot: str) -> None:
        """An element buffer is done before its length is taken: `b` is the outer buffer again."""
        if slot in self.open:
            sub = self.fresh("sub")
            c.add(ind, f"{sub} := b")
            c.add(ind, f"b = {self.open.pop(slot)}")
            self.names[slot] = sub

    def ops(self, c: Code, ind: int, ops: tuple[plan.Op, ...] | list[plan.Op]) -> None:
        n = self.names
        for op in ops:
            for value in vars(op).values():
                if isinstance(value, plan.LenOf):
                    self.close(c, ind, value.name)
            if isinstance(op, plan.Check):
                self.check(c, ind, op, 'return b, rt.EncErrf("{msg}"{args})')
            elif isinstance(op, plan.WriteInt):
                if op.width == "varint":
                    c.add(ind, f"b, err = rt.AppendQUICVarint(b, {n[op.value]})")
                else:
                    c.add(ind, f"b, err = rt.AppendUint(b, {n[op.value]}, {INT_SIZE[op.width]})")
                c.on_err(ind, "b, err")
            elif isinstance(op, plan.AsBytes):
                n[op.var] = n[op.value]  # Go strings and byte slices are written as they are
                if op.utf8:
                    c.add(ind, f"if !utf8.ValidString({n[op.value]}) {{")
                    c.add(ind + 1, self.err(f"{op.where}: not UTF-8"))
                    c.add(ind, "}")
            elif isinstance(op, plan.Limit):
                subject = self.operand(op.subject)
                c.add(ind, f"if {subject} > {op.limit} {{")
                c.add(ind + 1, self.err(f"{op.where}: %d {op.unit}, at most {op.limit}", subject))
                c.add(ind, "}")
            elif isinstance(op, plan.MinCount):
                c.add(ind, f"if {self.operand(op.subject)} < {op.min} {{")
                c.add(ind + 1, self.err(f"{op.where}: too few elements"))
                c.add(ind, "}")
            elif isinstance(op, plan.WriteLength):
                self.write_length(c, ind, op)
            elif isinstance(op, plan.WriteBytes):
                c.add(ind, f"b = append(b, {n[op.value]}...)")
            elif isinstance(op, plan.EncodeStruct):
                args = self.struct_args(op.args)
                if op.out in self.open or op.out == "out":
                    c.add(ind, f"b, err = {n[op.value]}.AppendWire(b{args})")
                else:
                    c.add(ind, f"{n[op.out]}, err := {n[op.value]}.AppendWire(nil{args})")
                c.on_err(ind, "b, err")
            elif isinstance(op, plan.NewBuffer):
                if op.holds == "struct":
                    n[op.var] = self.fresh("sub")
                else:
                    outer = self.fresh("outer")
                    c.add(ind, f"{outer} := b")
                    c.add(ind, "b = nil")
                    self.open[op.var] = outer
            elif isinstance(op, plan.WriteBuffer):
                self.close(c, ind, op.buffer)
                c.add(ind, f"b = append(b, {n[op.buffer]}...)")
            elif isinstance(op, plan.ForEach):
                x = self.fresh("x")
                n[op.item] = x
                c.add(ind, f"for _, {x} := range {_unparen(n[op.list])} {{")
                self.ops(c, ind + 1, op.body)
                c.add(ind, "}")
            elif isinstance(op, plan.Optional):
                self.optional(c, ind, op)
            elif isinstance(op, plan.Variant):
                self.variant(c, ind, op, 'return b, rt.EncErrf("{msg}"{args})')
            else:
                raise WireGenError(f"go: {self.s['name']}: {op.op} is not rendered here")

    def write_length(self, c: Code, ind: int, op: plan.WriteLength) -> None:
        subject = self.operand(op.subject)
        if op.kind == "varint":
            c.add(ind, f"b, err = rt.AppendQUICVarint(b, uint64({subject}))")
            c.on_err(ind, "b, err")
        elif op.kind == "field" and op.field is not None:
            c.add(ind, f"if uint64({subject}) != {self.operand(op.field)} {{")
            c.add(ind + 1, self.err(f"{op.where}: its length does not match {op.field.field}"))
            c.add(ind, "}")
        elif op.kind == "fixed":
            c.add(ind, f"if {subject} != {op.size} {{")
            c.add(ind + 1, self.err(f"{op.where}: %d, not exactly {op.size}", subject))
            c.add(ind, "}")

    def optional(self, c: Code, ind: int, op: plan.Optional) -> None:
        fn = self.names[op.var]
        text = plan_cond_text(op.cond, clear="unset")
        c.add(ind, f"if {self.cond(op.cond)} {{")
        c.add(ind + 1, f"if {fn} == nil {{")
        c.add(ind + 2, self.err(f"{op.where} is required when {text}"))
        c.add(ind + 1, "}")
        self.names[op.item] = f"(*{fn})"
        self.ops(c, ind + 1, op.body)
        c.add(ind, f"}} else if {fn} != nil {{")
        c.add(ind + 1, self.err(f"{op.where} must be absent unless {text}"))
        c.add(ind, "}")
