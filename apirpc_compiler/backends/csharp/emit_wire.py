"""C# source of one wire protocol, rendered from the IR's codec plan (ir/plan.py): code sets,
typed record classes whose decode and encode are the plan's ops spelled as straight-line C#, and
the protocol's stream state machines as tables walked by the generated WireRuntime.cs.

Every check, its order, its reason and every limit come from the plan; only the spelling (and
which messages carry an offset) is decided here. Nothing here knows a particular protocol.
"""

# Lines of emitted C# are kept whole (one C# line per literal) so the output stays greppable here.
# ruff: noqa: E501

from __future__ import annotations

from ...ir import plan
from ...ir.model import WireProtocol, WireStruct, WireType
from ..wire_render import Operators, ProtocolView, check_test, cond_test
from .namer import CSharpNamer
from .text import cs_string, doc_lines

_WIDTH = {"varint": 0, **plan.INT_SIZE}
_PARSER = {
    "sequence": "SequenceParser",
    "framed": "FramedParser",
    "header_objects": "HeaderObjectsParser",
    "datagram": "DatagramParser",
}
_KIND = {"int": "Int", "bytes": "Bytes", "string": "String", "list": "List", "struct": "Struct"}


def _ul(v: int) -> str:
    return f"0x{v:X}UL"


_OPS = Operators(
    literal=_ul,
    member=lambda v, values: "(" + " || ".join(f"{v} == {_ul(x)}" for x in values) + ")",
    parity="{a} % 2 == {b}",
    negate="!{a}",
)


class _Body:
    """One struct's decode or encode ops as C# statements; plan slots keep their names as locals."""

    def __init__(self, e: WireEmitter, sp: plan.StructPlan, encode: bool) -> None:
        self.e = e
        self.sp = sp
        self.encode = encode
        self.lines: list[str] = []
        self.types: dict[str, plan.TypeDesc | None] = {f.var: f.type for f in sp.fields}
        self.optional = {f.var for f in sp.fields if f.cond is not None}
        self.loops = 0
        self.out = {"out": "w"}

    def add(self, ind: int, line: str) -> None:
        self.lines.append("    " * (ind + 3) + line)

    def reason(self, r: str) -> str:
        return "DecodeErrorReason." + self.e.n.member(r.split("_"))

    def ctype(self, t: plan.TypeDesc | None, optional: bool = False) -> str:
        if t is None:
            return "WireWriter"
        if t.kind == "int":
            return "ulong?" if optional else "ulong"
        if t.kind == "bytes":
            return "byte[]"
        if t.kind == "string":
            return "string"
        if t.kind == "struct":
            return self.e.cls(str(t.struct))
        return "List<object>"

    def operand(self, o: plan.Operand) -> str:
        if isinstance(o, plan.Var):
            return o.name
        if isinstance(o, plan.FieldValue):
            return f"(v_{o.field} ?? 0UL)" if o.optional else f"v_{o.field}"
        if isinstance(o, plan.Const):
            return _ul(o.value)
        if isinstance(o, plan.Remaining):
            return f"(ulong)({o.end} - r.Pos)"
        t = self.types.get(o.name)
        if t is None:
            return f"(ulong){o.name}.Len"
        return f"(ulong){o.name}.Count" if t.kind == "list" else f"(ulong){o.name}.Length"

    def cond(self, c: plan.Cond) -> str:
        return cond_test(
            c,
            _OPS,
            flag=lambda f: f"f_{f}",
            value=lambda f: f"v_{f}",
            optional=lambda v, test: f"({v}.HasValue && {test(v + '.Value')})",
        )

    def fail(self, ind: int, cond: str, reason: str, msg: str, at: str | None = None) -> None:
        self.add(ind, f"if ({cond})")
        self.add(ind, "{")
        if self.encode:
            self.add(ind + 1, f"throw new EncodeException({msg});")
        elif at is not None:
            self.add(ind + 1, f"throw r.FailAt({self.reason(reason)}, {at}, {msg});")
        else:
            self.add(ind + 1, f"throw r.Fail({self.reason(reason)}, {msg});")
        self.add(ind, "}")

    def check(self, ind: int, op: plan.Check) -> None:
        ns = self.e.ns
        cond, words = check_test(
            op, op.var, _OPS, lambda codes, v: f"!global::{ns}.{self.e.code_class(codes)}.Contains({v})"
        )
        self.fail(ind, cond, op.reason, f"{cs_string(op.where + ': ')} + {op.var} + {cs_string(' ' + words)}", op.at)

    def args(self, names: tuple[str, ...]) -> str:
        return "new[] { " + ", ".join(names) + " }" if names else "null"

    def variant(self, ind: int, op: plan.Variant) -> None:
        self.add(ind, f"bool[] flags = VariantFlags({op.var});")
        hexed = f'{op.var}.ToString("x", CultureInfo.InvariantCulture)'
        self.fail(ind, "flags == null", op.reason, f"{cs_string(op.struct + ': unknown type 0x')} + {hexed}")
        for fl in op.flags:
            if fl.used:
                self.add(ind, f"bool {fl.var} = flags[{fl.index}];")

    def ops(self, ind: int, ops: tuple[plan.Op, ...]) -> None:
        for op in ops:
            if isinstance(op, plan.Repeat):
                self.loops += 1
                i = f"i{self.loops}"
                self.add(ind, f"for (ulong {i} = 0; {i} < {self.operand(op.count)}; {i}++)")
                self.add(ind, "{")
                self.ops(ind + 1, op.body)
                self.add(ind, "}")
            elif isinstance(op, plan.Variant):
                self.variant(ind, op)
            elif isinstance(op, plan.Check):
                self.check(ind, op)
            elif isinstance(op, plan.Begin):
                continue  # a boundary only; encoders check presence as they load the fields
            elif self.encode:
                self.encode_op(ind, op)
            else:
                self.decode_op(ind, op)

    def decode_op(self, ind: int, op: plan.Op) -> None:
        add = self.add
        if isinstance(op, plan.Mark):
            add(ind, f"int {op.var} = r.Pos;")
        elif isinstance(op, plan.ReadInt):
            self.types[op.var] = plan.TypeDesc("int")
            where = cs_string(op.where)
            read = f"r.Varint({op.end}" if op.width == "varint" else f"r.UInt({_WIDTH[op.width]}, {op.end}"
            add(ind, f"ulong {op.var} = {read}, {self.reason(op.error)}, {where});")
        elif isinstance(op, plan.Limit):
            n = self.operand(op.subject)
            msg = f"{cs_string(op.where + ': ')} + {n} + {cs_string(f' {op.unit}, at most {op.limit}')}"
            self.fail(ind, f"{n} > {_ul(op.limit)}", op.reason, msg)
        elif isinstance(op, (plan.ReadBytes, plan.ReadFixed)):
            self.types[op.var] = plan.TypeDesc("string" if op.utf8 else "bytes")
            raw = f"{op.var}Raw" if op.utf8 else op.var
            where = cs_string(op.where)
            if isinstance(op, plan.ReadFixed):
                add(ind, f"byte[] {raw} = r.Fixed({op.size}, {op.end}, {self.reason(op.error)}, {where});")
            else:
                length = self.operand(op.length)
                add(ind, f"byte[] {raw} = r.Raw({length}, {op.end}, {self.reason(op.error)}, {where});")
            if op.utf8:
                add(ind, f"string {op.var} = r.Text({raw}, {self.reason(op.utf8_error)}, {where});")
        elif isinstance(op, plan.OpenFrame):
            if isinstance(op.length, plan.Remaining):
                add(ind, f"int {op.var} = {op.end};")
            else:
                n = self.operand(op.length)
                add(ind, f"int {op.var} = r.SubEnd({n}, {op.end}, {self.reason(op.error)}, {cs_string(op.where)});")
        elif isinstance(op, plan.ExpectEnd):
            msg = f"{cs_string(op.where + ': ')} + ({op.end} - r.Pos) + {cs_string(' byte(s) left in its frame')}"
            self.fail(ind, f"r.Pos != {op.end}", op.reason, msg)
        elif isinstance(op, plan.DecodeStruct):
            self.types[op.var] = plan.TypeDesc("struct", op.struct)
            cls = self.e.cls(op.struct)
            add(ind, f"{cls} {op.var} = {cls}.DecodeFrom(r, {op.end}, {self.args(op.args)});")
        elif isinstance(op, plan.NewList):
            self.types[op.var] = op.type
            add(ind, f"var {op.var} = new List<object>();")
        elif isinstance(op, plan.MinCount):
            n = self.operand(op.subject)
            msg = f"{cs_string(op.where + ': ')} + {n} + {cs_string(f' elements, at least {op.min}')}"
            self.fail(ind, f"{n} < {_ul(op.min)}", op.reason, msg, op.at)
        elif isinstance(op, plan.Need):
            n = self.operand(op.count)
            add(ind, f"r.NeedCount({n}, {op.min_bytes}, {op.end}, {self.reason(op.error)}, {cs_string(op.where)});")
        elif isinstance(op, plan.Room):
            msg = cs_string(f"{op.where}: more than {op.max} elements")
            self.fail(ind, f"{op.list}.Count >= {op.max}", op.reason, msg)
        elif isinstance(op, plan.UntilEnd):
            add(ind, f"while (r.Pos < {op.end})")
            add(ind, "{")
            self.ops(ind + 1, op.body)
            add(ind, "}")
        elif isinstance(op, plan.Append):
            add(ind, f"{op.list}.Add({op.item});")
        elif isinstance(op, plan.Optional):
            add(ind, f"{self.ctype(self.types[op.var], True)} {op.var} = null;")
            add(ind, f"if ({self.cond(op.cond)})")
            add(ind, "{")
            self.ops(ind + 1, op.body)
            add(ind + 1, f"{op.var} = {op.item};")
            add(ind, "}")
        else:
            raise AssertionError(f"{self.sp.name}: {op.op} is not a decode op")

    def encode_op(self, ind: int, op: plan.Op) -> None:
        add = self.add
        if isinstance(op, plan.WriteInt):
            w = self.out.get(op.out, op.out)
            add(
                ind,
                f"{w}.Varint({op.value});" if op.width == "varint" else f"{w}.UInt({op.value}, {_WIDTH[op.width]});",
            )
        elif isinstance(op, plan.AsBytes):
            self.types[op.var] = plan.TypeDesc("bytes")
            if op.utf8:
                where = cs_string(self.sp.name)
                add(ind, f"byte[] {op.var} = Utf8Bytes({op.value}, {where});")
            else:
                add(ind, f"byte[] {op.var} = {op.value};")
        elif isinstance(op, plan.Limit):
            n = self.operand(op.subject)
            msg = f"{cs_string(op.where + ': ')} + {n} + {cs_string(f' {op.unit}, at most {op.limit}')}"
            self.fail(ind, f"{n} > {_ul(op.limit)}", op.reason, msg)
        elif isinstance(op, plan.MinCount):
            n = self.operand(op.subject)
            msg = f"{cs_string(op.where + ': ')} + {n} + {cs_string(f' elements, at least {op.min}')}"
            self.fail(ind, f"{n} < {_ul(op.min)}", op.reason, msg)
        elif isinstance(op, plan.WriteLength):
            n, w = self.operand(op.subject), self.out.get(op.out, op.out)
            if op.kind == "varint":
                add(ind, f"{w}.Varint({n});")
            elif op.kind == "field" and op.field is not None:
                msg = cs_string(f"{op.where}: its length does not match {op.field.field}")
                self.fail(ind, f"{n} != {self.operand(op.field)}", "invalid_value", msg)
            elif op.kind == "fixed":
                self.fail(
                    ind,
                    f"{n} != {_ul(op.size or 0)}",
                    "invalid_value",
                    cs_string(f"{op.where}: length is not {op.size}"),
                )
        elif isinstance(op, plan.WriteBytes):
            add(ind, f"{self.out.get(op.out, op.out)}.Raw({op.value});")
        elif isinstance(op, plan.EncodeStruct):
            add(ind, f"{op.value}.EncodeTo({self.out.get(op.out, op.out)}, {self.args(op.args)});")
        elif isinstance(op, plan.NewBuffer):
            self.types[op.var] = None
            add(ind, f"var {op.var} = new WireWriter();")
        elif isinstance(op, plan.WriteBuffer):
            add(ind, f"{self.out.get(op.out, op.out)}.Raw({op.buffer}.ToArray());")
        elif isinstance(op, plan.ForEach):
            lt = self.types[op.list]
            element = lt.element if lt is not None else None
            assert element is not None
            self.types[op.item] = element
            where = cs_string(self.sp.name)
            ct = self.ctype(element)
            cast = f"AsInt({op.item}Item, {where})" if ct == "ulong" else f"As<{ct}>({op.item}Item, {where})"
            add(ind, f"foreach (object {op.item}Item in {op.list})")
            add(ind, "{")
            add(ind + 1, f"{ct} {op.item} = {cast};")
            self.ops(ind + 1, op.body)
            add(ind, "}")
        elif isinstance(op, plan.Optional):
            t = self.types[op.var]
            self.types[op.item] = t
            add(ind, f"if ({self.cond(op.cond)})")
            add(ind, "{")
            self.fail(
                ind + 1,
                f"{op.var} == null",
                "invalid_value",
                cs_string(f"{op.where} is required (its condition holds)"),
            )
            value = f"{op.var}.Value" if t is not None and t.kind == "int" else op.var
            add(ind + 1, f"{self.ctype(t)} {op.item} = {value};")
            self.ops(ind + 1, op.body)
            add(ind, "}")
            add(ind, f"else if ({op.var} != null)")
            add(ind, "{")
            add(
                ind + 1,
                f"throw new EncodeException({cs_string(f'{op.where} must be absent (its condition does not hold)')});",
            )
            add(ind, "}")
        else:
            raise AssertionError(f"{self.sp.name}: {op.op} is not an encode op")


def _used(lines: list[str], name: str) -> bool:
    return any(name in line for line in lines)


class WireEmitter:
    def __init__(self, proto: WireProtocol, namer: CSharpNamer, root_ns: str) -> None:
        self.p = proto
        self.n = namer
        self.root_ns = root_ns
        self.ns = f"{root_ns}.Wire.{namer.namespace_part(proto['words'])}"
        self.view = ProtocolView(proto, "csharp")
        self.structs = self.view.structs
        self.plan = self.view.plan
        self.struct_plans = self.view.struct_plans
        self.closed = {c.name: c.values for c in self.plan.code_sets}

    def cls(self, struct_name: str) -> str:
        return self.n.type_name(self.view.struct_words(struct_name))

    def code_class(self, name: str) -> str:
        return self.n.type_name(self.view.code_words(name))

    def reason(self, r: str) -> str:
        return "DecodeErrorReason." + self.n.member(r.split("_"))

    # ---- tables ----

    def _type(self, t: plan.TypeDesc) -> str:
        parts = [f"Kind = WireKind.{_KIND[t.kind]}"]
        if t.struct is not None:
            parts.append(f"Struct = {cs_string(t.struct)}")
        if t.element is not None:
            parts.append(f"Element = {self._type(t.element)}")
        return "new WireType { " + ", ".join(parts) + " }"

    def _struct_desc(self, s: WireStruct) -> list[str]:
        sp = self.struct_plans[s["name"]]
        cls = self.cls(s["name"])
        out = ["            Table.Add(new WireStruct", "            {"]
        out.append(f"                Name = {cs_string(s['name'])},")
        out.append("                Args = new string[] { " + ", ".join(cs_string(a) for a in sp.args) + " },")
        out.append("                Fields = new WireField[]")
        out.append("                {")
        for f in sp.fields:
            optional = "true" if f.cond is not None else "false"
            out.append(
                f"                    new WireField {{ Name = {cs_string(f.name)}, Type = {self._type(f.type)}, Optional = {optional} }},"
            )
        out.append("                },")
        out.append(f"                Create = () => new {cls}(),")
        out.append(f"                WholeReason = {self.reason(sp.whole_reason)},")
        out.append(f"                Decoder = (r, end, args) => {cls}.DecodeFrom(r, end, args),")
        if sp.variants:
            out.append(f"                VariantFlags = {cls}.VariantFlags,")
        out.append("            });")
        return out

    def _stream_desc(self, st: plan.StreamPlan) -> list[str]:
        states = sorted(st.states, key=lambda s: s.name != st.initial)  # the initial state first
        index = {s.name: i for i, s in enumerate(states)}
        out = ["            Table.Add(new StreamMachine", "            {"]
        out.append(f"                Name = {cs_string(st.name)},")
        out.append(f"                EmptyItemReason = {self.reason(st.empty_item_reason)},")
        out.append(f"                BufferReason = {self.reason(st.buffer_reason)},")
        out.append("                States = new StreamState[]")
        out.append("                {")
        for s in states:
            parts = [f"Name = {cs_string(s.name)}"]
            if s.peek is not None:
                parts.append(f"Peek = {_WIDTH[s.peek]}")
            if s.frame is not None:
                fr = s.frame
                parts.append(
                    f"Frame = new FrameHeader {{ Type = {_WIDTH[fr.type]}, Length = {_WIDTH[fr.length]}, MaxLength = {fr.max_length}UL, "
                    f"UnknownReason = {self.reason(fr.unknown_reason)}, TooLargeReason = {self.reason(fr.too_large_reason)}, "
                    f"PastEndReason = {self.reason(fr.past_end_reason)}, TrailingReason = {self.reason(fr.trailing_reason)} }}"
                )
            if s.at_end != "accept":
                parts.append(f"AtEnd = {self.reason(s.at_end)}")
            if s.trailing is not None:
                parts.append(f"Trailing = {self.reason(s.trailing)}")
            parts.append(f"UnknownReason = {self.reason(s.unknown_reason)}")
            out.append("                    new StreamState")
            out.append("                    {")
            out += [f"                        {p}," for p in parts]
            out.append("                        Transitions = new StreamTransition[]")
            out.append("                        {")
            for t in s.transitions:
                codes = "null" if t.codes is None else "new ulong[] { " + ", ".join(_ul(c) for c in t.codes) + " }"
                args = "new int[] { " + ", ".join(str(a.index) for a in t.args) + " }" if t.args else "new int[0]"
                binds = "true" if t.binds_flags else "false"
                out.append(
                    f"                            new StreamTransition {{ Codes = {codes}, Struct = Table.Structs[{cs_string(t.struct)}], "
                    f"Args = {args}, Next = {index[t.next]}, BindsFlags = {binds} }},"
                )
            out.append("                        },")
            out.append("                    },")
        out += ["                },", "            });"]
        return out

    # ---- codecs ----

    def _codec(self, s: WireStruct, cls: str) -> list[str]:
        sp = self.struct_plans[s["name"]]
        out: list[str] = []
        if sp.variants:  # each variant's flags in the plan's flag order, shared and never written
            out += ["", "        private static readonly bool[][] Variants =", "        {"]
            for v in sp.variants:
                out.append("            new bool[] { " + ", ".join("true" if b else "false" for b in v.flags) + " },")
            out += ["        };", "", "        internal static bool[] VariantFlags(ulong code)", "        {"]
            out += ["            switch (code)", "            {"]
            out += [f"                case {_ul(v.code)}: return Variants[{i}];" for i, v in enumerate(sp.variants)]
            out += ["                default: return null;", "            }", "        }"]
        dec = _Body(self, sp, False)
        dec.ops(0, sp.decode)
        dec.add(0, f"var o = new {cls}();")
        for f in sp.fields:
            if f.cond is None:
                dec.add(0, f"o.Values[{cs_string(f.name)}] = {f.var};")
            else:
                dec.add(0, f"o.Set({cs_string(f.name)}, {f.var});")
        dec.add(0, "return o;")
        out += ["", f"        internal static {cls} DecodeFrom(WireReader r, int end, bool[] args)", "        {"]
        out += [f"            bool f_{a} = args[{i}];" for i, a in enumerate(sp.args) if _used(dec.lines, f"f_{a}")]
        out += [*dec.lines, "        }"]
        enc = _Body(self, sp, True)
        enc.ops(0, sp.encode)
        out += [
            "",
            "        internal override void EncodeTo(WireWriter w, bool[] args)",
            "        {",
            "            CheckFieldNames();",
        ]
        out += [f"            bool f_{a} = args[{i}];" for i, a in enumerate(sp.args) if _used(enc.lines, f"f_{a}")]
        for f in sp.fields:
            key = cs_string(f.name)
            required = "false" if f.cond is not None else "true"
            if f.type.kind == "int":
                load = f"EncOptInt({key})" if f.cond is not None else f"EncInt({key})"
            else:
                load = f"EncRef<{enc.ctype(f.type)}>({key}, {required})"
            out.append(f"            {enc.ctype(f.type, f.cond is not None)} {f.var} = {load};")
        out += [*enc.lines, "        }"]
        return out

    # ---- typed records ----

    def _cs_type(self, t: WireType) -> str:
        k = t["type"]
        if k in plan.INT_MAX:
            return "ulong"
        if k == "bytes":
            return "byte[]"
        if k == "string":
            return "string"
        if k == "struct":
            assert t["struct"] is not None
            return self.n.type_name(self.structs[t["struct"]]["words"])
        assert t["element"] is not None
        inner = self._cs_type(t["element"])
        return f"List<{inner if t['element']['type'] != 'list' else 'object'}>"

    def _record_class(self, s: WireStruct) -> list[str]:
        cls = self.n.type_name(s["words"])
        doc = s["doc"] or s["name"]
        out = doc_lines(doc, 4)
        out += [f"    public sealed class {cls} : WireRecord", "    {"]
        consts = [f for f in self.struct_plans[s["name"]].fields if f.initial is not None]
        out += [
            "        /// <summary>A value with its constant fields set (set every other required field before encoding).</summary>",
            f"        public {cls}()",
            "        {",
            f"            Descriptor = Protocol.Table.Structs[{cs_string(s['name'])}];",
            *(f"            Set({cs_string(f.name)}, {_ul(int(f.initial or 0))});" for f in consts),
            "        }",
        ]
        if self.p["name"] == "envelope" and s["name"] == "Envelope":
            # The legacy RPC envelope gets a request constructor, as in every SDK.
            out += [
                "",
                "        /// <summary>",
                '        /// The request envelope of one call of <paramref name="methodId"/> (a <c>MethodIds</c> constant)',
                '        /// carrying <paramref name="message"/> in protobuf binary: version set, kind request, flag',
                "        /// final (one request message).",
                "        /// </summary>",
                f"        public static Envelope Request(ulong methodId, ulong requestId, global::{self.root_ns}.Message message)",
                "        {",
                "            return new Envelope { Kind = EnvelopeKind.Request, Flags = EnvelopeFlag.Final, MethodId = methodId, RequestId = requestId, Payload = message.Encode() };",
                "        }",
            ]
        for f in s["fields"]:
            name = self.n.member(f["words"])
            key = cs_string(f["name"])
            t = f["type"]
            ct = self._cs_type(t)
            out.append("")
            out += doc_lines((f["doc"] or f["name"]) + (" (conditional: null when absent)" if f["when"] else ""), 8)
            if ct == "ulong":
                if f["when"] is None:
                    out.append(
                        f"        public ulong {name} {{ get {{ return GetInt({key}); }} set {{ Set({key}, value); }} }}"
                    )
                else:
                    out.append(
                        f"        public ulong? {name} {{ get {{ return GetOptInt({key}); }} set {{ SetOptInt({key}, value); }} }}"
                    )
            elif ct.startswith("List<"):
                inner = ct[5:-1]
                out.append(
                    f"        public {ct} {name} {{ get {{ return GetList<{inner}>({key}); }} set {{ SetList({key}, value); }} }}"
                )
            else:
                out.append(
                    f"        public {ct} {name} {{ get {{ return ({ct})Get({key}); }} set {{ Set({key}, value); }} }}"
                )
        out += self._codec(s, cls)
        args = "Dictionary<string, bool> args = null"
        out += [
            "",
            '        /// <summary>Decodes all of <paramref name="data"/>; DecodeException if it is not exactly one value.</summary>',
            f"        public static {cls} Decode(byte[] data, {args})",
            "        {",
            f"            return ({cls})WireCodec.Decode(Protocol.Table.Structs[{cs_string(s['name'])}], data, args);",
            "        }",
            "",
            "        /// <summary>Reads the vector value format; DecodeException(invalid_json) if it does not match.</summary>",
            f"        public static {cls} FromJson(string text)",
            "        {",
            f"            return ({cls})WireCodec.FromJson(Protocol.Table.Structs[{cs_string(s['name'])}], Json.Parse(text));",
            "        }",
            "    }",
        ]
        return out

    def _code_set(self, c: dict) -> list[str]:  # type: ignore[type-arg]
        cls = self.n.type_name(c["words"])
        status = "Closed: values outside this set are rejected." if c["closed"] else "Open: unknown values are kept."
        out = doc_lines(f"{c['doc']} {status}", 4)
        out += [f"    public static class {cls}", "    {"]
        for v in c["values"]:
            out += doc_lines(v["doc"] or v["name"], 8)
            out.append(f"        public const ulong {self.n.member(v['words'])} = {_ul(v['value'])};")
        out += [
            "",
            '        /// <summary>The IDL name of <paramref name="value"/>, or null for a value this set does not define.</summary>',
            "        public static string NameOf(ulong value)",
            "        {",
            "            switch (value)",
            "            {",
        ]
        for v in c["values"]:
            out.append(f"                case {_ul(v['value'])}: return {cs_string(v['name'])};")
        out += ["                default: return null;", "            }", "        }"]
        closed = self.closed.get(c["name"])
        if closed is not None:
            out += [
                "",
                "        internal static bool Contains(ulong value)",
                "        {",
                "            switch (value)",
                "            {",
                *(f"                case {_ul(v)}:" for v in closed),
                "                    return true;",
                "                default:",
                "                    return false;",
                "            }",
                "        }",
            ]
        out.append("    }")
        return out

    # ---- streams ----

    def _stream_factory(self, st: plan.StreamPlan, words: list[str], doc: str) -> list[str]:
        name = self.n.member(words)
        cls = _PARSER[st.kind]
        out = doc_lines(f"A new incremental parser of the `{st.name}` stream ({st.kind}). {doc}", 8)
        out += [
            f"        public static {cls} New{name}Parser()",
            "        {",
            f"            return new {cls}(Table.Streams[{cs_string(st.name)}]);",
            "        }",
        ]
        return out

    def source(self, header: str) -> str:
        p = self.p
        out = [
            header,
            "using System.Collections.Generic;",
            "using System.Globalization;",
            "",
            f"namespace {self.ns}",
            "{",
        ]
        out += doc_lines(
            f"Wire protocol `{p['name']}` (family {p['family']}, version 0x{p['version']:x}). {p['doc']}", 4
        )
        out += ["    public static class Protocol", "    {"]
        out += [
            "        /// <summary>The protocol family.</summary>",
            f"        public const string Family = {cs_string(p['family'])};",
            "        /// <summary>The protocol version.</summary>",
            f"        public const ulong Version = {_ul(p['version'])};",
            "        /// <summary>The ALPN string, or null.</summary>",
            f"        public const string Alpn = {cs_string(p['alpn']) if p['alpn'] is not None else 'null'};",
            "",
            "        /// <summary>The struct and stream tables of this protocol.</summary>",
            f"        public static readonly WireProtocol Table = new WireProtocol({cs_string(p['name'])}, {self.plan.max_buffer});",
            "",
            "        static Protocol()",
            "        {",
        ]
        for s in p["structs"]:
            out += self._struct_desc(s)
        for sp in self.plan.streams:
            out += self._stream_desc(sp)
        out += ["        }"]
        ir_streams = {st["name"]: st for st in p["streams"]}
        for sp in self.plan.streams:
            out.append("")
            out += self._stream_factory(sp, ir_streams[sp.name]["words"], ir_streams[sp.name]["doc"])
        out += [
            "",
            "        /// <summary>A new parser of the stream with this IDL name, or null.</summary>",
            "        public static StreamParser NewParser(string stream)",
            "        {",
            "            switch (stream)",
            "            {",
        ]
        for st in p["streams"]:
            out.append(f"                case {cs_string(st['name'])}: return New{self.n.member(st['words'])}Parser();")
        out += ["                default: return null;", "            }", "        }", "    }"]
        for c in p["codes"]:
            out.append("")
            out += self._code_set(c)  # type: ignore[arg-type]
        for s in p["structs"]:
            out.append("")
            out += self._record_class(s)
        out += ["}", ""]
        return "\n".join(out)
