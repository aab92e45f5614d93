"""Wire protocols (the IR's `wire` list): one header and one source per protocol.

Every struct becomes a view struct: `bytes` fields are `Bytes` and `string` fields
`std::string_view` pointing into the decoded input (zero copy), conditional fields are
std::optional, lists std::vector. Decoders are straight C++ over `quic::Reader` (bounded
reads, errors in the order the vectors README gives); encoders check every constraint and
return an encode error. Each stream grammar is a table (its plan's states and transitions) and
an item decoder switch that the runtime's quic::StreamParser walks, buffering only the bytes of
an unfinished item.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ...ir import plan
from ...ir.graph import strongly_connected
from ...ir.model import WireProtocol, WireStream, WireStruct, WireType
from ..common import INT_MAX, INT_SIZE, plan_cond_text, shift_literal
from ..wire_render import Code, Operators, ProtocolView, check_test, cond_test, loop_item, split_fields
from .namer import CppNamer
from .text import cstr, doc, u64


class ProtocolEmitter:
    def __init__(self, p: WireProtocol, n: CppNamer) -> None:
        self.p = p
        self.n = n
        self.ns = n.namespace(p["words"])
        self.v = ProtocolView(p, "cpp")
        self.structs = self.v.structs

    # ---- names and types ----
    def tn(self, struct: str) -> str:
        return self.n.type_name(self.structs[struct]["words"])

    def code_type(self, name: str) -> str:
        return self.n.type_name(self.v.code_words(name))

    def ctype(self, t: plan.TypeDesc) -> str:
        if t.kind == "int":
            return "std::uint64_t"
        if t.kind == "bytes":
            return "Bytes"
        if t.kind == "string":
            return "std::string_view"
        if t.kind == "struct":
            return self.tn(str(t.struct))
        assert t.element is not None
        return f"std::vector<{self.ctype(t.element)}>"

    def order(self) -> list[WireStruct]:
        """The structs, each after the ones its fields hold (C++ declares a type before its use)."""

        def held(name: str) -> list[str]:
            types = [pf.type for pf in self.v.struct_plans[name].fields]
            for t in types:
                types += [t.element] if t.element is not None else []
            return [str(t.struct) for t in types if t.kind == "struct"]

        out = []
        for component in strongly_connected([s["name"] for s in self.p["structs"]], held):
            if len(component) > 1 or component[0] in held(component[0]):
                raise self.v.fail(f"wire struct {component[0]} is recursive")
            out.append(self.structs[component[0]])
        return out

    # ---- header ----
    def header(self) -> list[str]:
        p = self.p
        out = doc(p["doc"])
        out.append(f"namespace {self.ns} {{")
        out.append("")
        out.append(f"inline constexpr std::string_view kFamily = {cstr(p['family'])};")
        out.append(f"inline constexpr std::uint64_t kVersion = {u64(p['version'])};")
        out.append(f"inline constexpr std::string_view kAlpn = {cstr(p['alpn'] or '')};")
        out.append("/// Default bound on the bytes an incremental parser holds for one unfinished item.")
        max_buffer = shift_literal(self.v.plan.max_buffer, "std::size_t{1}")
        out.append(f"inline constexpr std::size_t kDefaultMaxBuffer = {max_buffer};")
        out.append("")
        for cs in p["codes"]:
            out += doc(cs["doc"])
            out.append(
                f"/// {'Closed: values outside this set are rejected.' if cs['closed'] else 'Open: unknown values are kept.'}"  # noqa: E501
            )
            out.append(f"struct {self.n.type_name(cs['words'])} {{")
            for c in cs["values"]:
                out += doc(c["doc"], "  ")
                out.append(f"  static constexpr std::uint64_t {self.n.const(c['words'])} = {u64(c['value'])};")
            out.append('  /// The IDL name of `value`, or "" for a value this set does not define.')
            out.append("  static std::string_view name_of(std::uint64_t value) noexcept;")
            out.append("  /// True if this set defines `value`.")
            out.append("  static bool contains(std::uint64_t value) noexcept { return !name_of(value).empty(); }")
            out.append("};")
            out.append("")
        for s in self.order():
            out += self.struct_decl(s)
        for st in p["streams"]:
            out += self.stream_decl(st)
        out.append("/// The by-name registry of this protocol's structs (IDL names, without the protocol prefix).")
        out.append("const WireStructOps* find_struct(std::string_view name) noexcept;")
        out.append("/// The by-name registry of this protocol's streams.")
        out.append("const StreamOps* find_stream(std::string_view name) noexcept;")
        out.append("")
        out.append(f"}}  // namespace {self.ns}")
        return out

    def struct_decl(self, s: WireStruct) -> list[str]:
        name = self.tn(s["name"])
        out = [f"/// Flags the enclosing stream passes in to {name}."]
        if s["args"]:
            out.append(f"struct {name}Args {{")
            for a in s["args"]:
                out.append(f"  bool {self.n.field(a.split('_'))} = false;")
            out.append("};")
        else:
            out.append(f"struct {name}Args {{}};")
        out += doc(s["doc"])
        out.append("///")
        out.append("/// Decoded values are views into the input buffer (valid while it is alive).")
        out.append(f"struct {name} {{")
        out.append(f"  static constexpr std::string_view kName = {cstr(s['name'])};")
        out.append(f"  using Args = {name}Args;")
        out.append("")
        for f, pf in zip(s["fields"], self.v.struct_plans[s["name"]].fields, strict=True):
            out += doc(f["doc"] + (f" Present only when {plan_cond_text(pf.cond)}." if pf.cond else ""), "  ")
            init = "{}" if pf.cond is None and pf.type.kind == "int" else ""
            if pf.initial is not None:
                init = f"{{{pf.initial}u}}"  # a default-built value encodes
            ctype = self.ctype(pf.type)
            out.append(f"  {f'std::optional<{ctype}>' if pf.cond else ctype} {self.n.field(f['words'])}{init};")
        out.append("")
        if self.p["name"] == "envelope" and s["name"] == "Envelope":
            # The legacy RPC envelope gets a request constructor, as in every SDK.
            out += [
                "  /// The request envelope of one call of `method_id` (a kMethod* constant) carrying",
                "  /// `message` in protobuf binary: version set, kind request, flag final (one request",
                "  /// message). `payload` receives the bytes; the envelope views it, so it must outlive it.",
                "  template <class Message>",
                "  static Envelope request(std::uint64_t method_id, std::uint64_t request_id, const Message& message,",
                "                          ByteVec& payload) {",
                "    payload = message.encode();",
                "    Envelope e;",
                "    e.kind = EnvelopeKind::kRequest;",
                "    e.flags = EnvelopeFlag::kFinal;",
                "    e.method_id = method_id;",
                "    e.request_id = request_id;",
                "    e.payload = Bytes(payload.data(), payload.size());",
                "    return e;",
                "  }",
                "",
            ]
        out.append("  /// Decodes all of `data` (leftover bytes: trailing_bytes). The value views `data`.")
        out.append(f"  static Result<{name}> decode(Bytes data, const Args& args = {{}});")
        out.append("  /// Appends the wire bytes to `out`; an encode error if a field breaks its declaration.")
        out.append("  Status encode_to(ByteVec& out, const Args& args = {}) const;")
        out.append("  /// The wire bytes.")
        out.append("  Result<ByteVec> encode(const Args& args = {}) const;")
        out.append("  /// This value in the golden vectors' value format.")
        out.append("  Json to_json() const;")
        out.append("  /// Reads the vectors' value format; bytes and strings are copied into `arena`.")
        out.append(f"  static Result<{name}> from_json(const Json& value, Arena& arena);")
        out.append("};")
        out.append("")
        return out

    def stream_items(self, sp: plan.StreamPlan) -> list[str]:
        """The structs a stream's items can be: each header's, then its objects'."""
        seen: list[str] = []
        for tr in self.v.state(sp, sp.initial).transitions:
            then = self.v.state(sp, tr.next).transitions if tr.next != sp.initial else ()
            seen += [x.struct for x in (tr, *then) if x.struct not in seen]
        return seen

    def stream_decl(self, st: WireStream) -> list[str]:
        parser = self.n.type_name([*st["words"], "parser"])
        item = self.n.type_name([*st["words"], "item"])
        kinds = self.stream_items(self.v.stream_plans[st["name"]])
        out: list[str] = []
        if st["kind"] == "datagram":
            out += doc(st["doc"])
            out.append(f"/// Decodes one whole datagram of stream `{st['name']}`.")
            out.append(f"Result<{self.tn(kinds[0])}> decode_{self.n.func(st['words'])}(Bytes data);")
            out.append("")
            return out
        variant = ", ".join(self.tn(k) for k in kinds)
        grammar = self.n.type_name([*st["words"], "grammar"])
        out.append(f"/// One parsed item of stream `{st['name']}`.")
        if st["kind"] == "sequence":
            out.append(f"using {item} = {variant};")
        elif st["kind"] == "framed":
            out.append(f"struct {item} {{")
            out.append("  std::uint64_t code = 0;  ///< the message type code")
            out.append(f"  std::variant<{variant}> message;")
            out.append("};")
        else:
            out.append(f"using {item} = std::variant<{variant}>;")
        out.append("")
        out.append(f"/// Stream `{st['name']}`'s grammar: its state table and item decoders (in the source).")
        out.append(f"struct {grammar} {{")
        out.append("  static const quic::StreamTable kTable;")
        out.append(f"  static bool decode(std::size_t decoder, {_DECODE_PARAMS.format(item=item)});")
        out.append("};")
        out.append("")
        out += doc(st["doc"])
        out.append("///")
        out.append("/// feed() and close() as quic::StreamParser gives them, over this stream's grammar.")
        out.append(f"class {parser} : public quic::StreamParser<{item}, {grammar}> {{")
        out.append(" public:")
        out.append(f"  explicit {parser}(std::size_t max_buffer = kDefaultMaxBuffer) : StreamParser(max_buffer) {{}}")
        out.append("};")
        out.append("")
        return out

    def instantiations(self, lead: str) -> list[str]:
        """Each incremental stream's parser, instantiated once in the source (`lead` "extern " in the header)."""
        out = []
        for st in self.p["streams"]:
            if st["kind"] != "datagram":
                item, grammar = (f"wire::{self.ns}::{self.n.type_name([*st['words'], w])}" for w in ("item", "grammar"))
                out.append(f"{lead}template class quic::StreamParser<{item}, {grammar}>;")
        return [*out, ""] if out else []

    # ---- source ----
    def source(self) -> list[str]:
        out = [f"namespace {self.ns} {{", "namespace {", ""]
        order = self.order()
        for s in order:
            name = self.tn(s["name"])
            out.append(f"bool dec(quic::Reader& r, std::size_t end, const {name}::Args& args, {name}& out);")
            out.append(f"Status enc(ByteVec& out, const {name}& v, const {name}::Args& args);")
            out.append(f"Json to_json_value(const {name}& v);")
            out.append(f"bool from_json_into(const Json& j, Arena& arena, {name}& out, Status& err);")
        out.append("")
        for s in order:
            out += self.variants_fn(s)
            out += _Decoder(self, s, self.v.struct_plans[s["name"]], "out.").fn()
            out += _Encoder(self, s, self.v.struct_plans[s["name"]], "v.").fn()
            out += self.json_fns(s)
        out.append("}  // namespace")
        out.append("")
        for cs in self.p["codes"]:
            t = self.n.type_name(cs["words"])
            out.append(f"std::string_view {t}::name_of(std::uint64_t value) noexcept {{")
            out.append("  switch (value) {")
            for c in cs["values"]:
                out.append(f"    case {u64(c['value'])}:")
                out.append(f"      return {cstr(c['name'])};")
            out.append("    default:")
            out.append('      return "";')
            out.append("  }")
            out.append("}")
            out.append("")
        for s in order:
            out += self.public_fns(s)
        for st in self.p["streams"]:
            out += self.stream_impl(st)
        out += self.registry()
        out.append(f"}}  // namespace {self.ns}")
        return out

    def variants_fn(self, s: WireStruct) -> list[str]:
        if not s["variants"]:
            return []
        name = self.tn(s["name"])
        params = "".join(f", bool& f_{fl}" for fl in s["flags"])
        out = [f"// The variant flags of a {name} type code; false for a code that is not defined."]
        out.append(f"bool variant_{name}(std::uint64_t code{params}) {{")
        out.append("  switch (code) {")
        for v in s["variants"]:
            out.append(f"    case {u64(v['code'])}:")
            for fl in s["flags"]:
                out.append(f"      f_{fl} = {'true' if v['flags'].get(fl) else 'false'};")
            out.append("      return true;")
        out.append("    default:")
        out.append("      return false;")
        out.append("  }")
        out.append("}")
        out.append("")
        return out

    def to_json_expr(self, t: WireType, v: str) -> str:
        k = t["type"]
        if k in INT_MAX:
            return f"json_num({v})"
        if k == "bytes":
            return f"Json::string(to_hex({v}))"
        if k == "string":
            return f"Json::string(std::string({v}))"
        if k == "struct":
            return f"to_json_value({v})"
        assert t["element"] is not None
        inner = self.to_json_expr(t["element"], "x")
        return f"[&] {{ Json a = Json::array(); for (const auto& x : {v}) a.push({inner}); return a; }}()"

    def from_json_value(self, c: Code, ind: int, t: WireType, src: str, dst: str, where: str) -> None:
        k = t["type"]
        if k in INT_MAX:
            c.add(ind, f'if (!json_int({src}, "{where}", {dst}, err)) return false;')
        elif k == "bytes":
            c.add(ind, f'if (!json_hex({src}, "{where}", arena, {dst}, err)) return false;')
        elif k == "string":
            c.add(ind, f'if (!json_text({src}, "{where}", arena, {dst}, err)) return false;')
        elif k == "struct":
            if not src.startswith("&"):
                c.add(ind, f'if ({src} == nullptr) return pj::fail(err, "{where}: missing field");')
            c.add(ind, f"if (!from_json_into(*{src}, arena, {dst}, err)) return false;")
        else:
            assert t["element"] is not None
            c.add(ind, f'if (!json_array({src}, "{where}", err)) return false;')
            x = c.fresh("x")
            c.add(ind, f"for (const Json& {x} : {src}->items()) {{")
            y = c.fresh("y")
            c.add(ind + 1, f"auto& {y} = {dst}.emplace_back();")
            self.from_json_value(c, ind + 1, t["element"], f"&{x}", y, where + "[]")
            c.add(ind, "}")

    def json_fns(self, s: WireStruct) -> list[str]:
        name = self.tn(s["name"])
        c = Code("  ")
        c.add(0, f"Json to_json_value(const {name}& v) {{")
        c.add(1, "Json j = Json::object();")
        if not s["fields"]:
            c.add(1, "(void)v;")
        for f in s["fields"]:
            fld = "v." + self.n.field(f["words"])
            if f["when"] is None:
                c.add(1, f"j.set({cstr(f['name'])}, {self.to_json_expr(f['type'], fld)});")
            else:
                c.add(1, f"if ({fld}) j.set({cstr(f['name'])}, {self.to_json_expr(f['type'], '(*' + fld + ')')});")
        c.add(1, "return j;")
        c.add(0, "}")
        c.add(0, "")
        c.add(0, f"bool from_json_into(const Json& j, Arena& arena, {name}& out, Status& err) {{")
        c.add(1, f'if (!j.is_object()) return pj::fail(err, "{s["name"]}: expected an object");')
        names = " && ".join(f"key != {cstr(f['name'])}" for f in s["fields"]) or "true"
        c.add(1, "for (const auto& member : j.members()) {")
        c.add(2, "const std::string& key = member.first;")
        c.add(2, f'if ({names}) return pj::fail(err, "{s["name"]}: unknown field " + key);')
        c.add(1, "}")
        c.add(1, "(void)arena;")
        if not s["fields"]:
            c.add(1, "(void)out;")
        for f in s["fields"]:
            fld = "out." + self.n.field(f["words"])
            where = f"{s['name']}.{f['name']}"
            src = f"j.find({cstr(f['name'])})"
            if f["when"] is None:
                self.from_json_value(c, 1, f["type"], src, fld, where)
            else:
                c.add(1, f"if (!absent(j, {cstr(f['name'])})) {{")
                tmp = c.fresh("t")
                c.add(2, f"auto& {tmp} = {fld}.emplace();")
                self.from_json_value(c, 2, f["type"], src, tmp, where)
                c.add(1, "}")
        c.add(1, "return true;")
        c.add(0, "}")
        c.add(0, "")
        return c.lines

    def public_fns(self, s: WireStruct) -> list[str]:
        name = self.tn(s["name"])
        whole = self.v.struct_plans[s["name"]].whole_reason
        return [
            f"Result<{name}> {name}::decode(Bytes data, const Args& args) {{",
            "  quic::Reader r(data);",
            f"  {name} v;",
            "  if (!dec(r, r.stop, args, v)) return r.err;",
            "  if (r.pos != r.stop) {",
            f'    (void)r.fail({_reason(whole)}, "bytes left after {s["name"]}");',
            "    return r.err;",
            "  }",
            "  return v;",
            "}",
            "",
            f"Status {name}::encode_to(ByteVec& out, const Args& args) const {{ return enc(out, *this, args); }}",
            "",
            f"Result<ByteVec> {name}::encode(const Args& args) const {{",
            "  ByteVec out;",
            "  if (Status st = enc(out, *this, args); !st) return st;",
            "  return out;",
            "}",
            "",
            f"Json {name}::to_json() const {{ return to_json_value(*this); }}",
            "",
            f"Result<{name}> {name}::from_json(const Json& value, Arena& arena) {{",
            f"  {name} v;",
            "  Status err;",
            "  if (!from_json_into(value, arena, v, err)) return err;",
            "  return v;",
            "}",
            "",
        ]

    # ---- streams ----
    def stream_impl(self, st: WireStream) -> list[str]:
        """A stream's grammar as the table quic::StreamParser walks (a datagram: one whole struct)."""
        sp = self.v.stream_plans[st["name"]]
        start = self.v.state(sp, sp.initial)
        fn = self.n.func(st["words"])
        if st["kind"] == "datagram":
            if start.trailing != self.v.struct_plans[start.transitions[0].struct].whole_reason:
                raise self.v.fail(f"{st['name']}: a datagram is decoded as one whole struct")
            msg = self.tn(start.transitions[0].struct)
            return [f"Result<{msg}> decode_{fn}(Bytes data) {{ return {msg}::decode(data); }}", ""]
        table = f"k{self.n.type_name(st['words'])}"
        item = self.n.type_name([*st["words"], "item"])
        grammar = self.n.type_name([*st["words"], "grammar"])
        index = {s.name: i for i, s in enumerate(sp.states)}
        decoders: list[list[str]] = []  # each decoder's statements
        out = ["namespace {"]
        states: list[str] = []
        for state in sp.states:
            rows: list[str] = []
            for tr in state.transitions:
                body = self.item_decoder(sp, tr)
                if body not in decoders:
                    decoders.append(body)
                rows += [f"    {{{u64(code)}, {decoders.index(body)}, {index[tr.next]}}}," for code in tr.codes or (0,)]
            name = f"{table}_{self.n.func(state.name.split('_'))}"
            if rows:
                out += [f"constexpr quic::StreamTransition {name}[] = {{", *rows, "};"]
            frame = "nullptr"
            if state.frame is not None:
                f = state.frame
                frame = f"&{name}_frame"
                fields = {
                    "type_size": _size(f.type),
                    "length_size": _size(f.length),
                    "max_length": u64(f.max_length),
                    **{k: _reason(getattr(f, f"{k}_reason")) for k in ("unknown", "too_large", "past_end", "trailing")},
                }
                out += [f"constexpr quic::StreamFrame {name}_frame = {{", *_designated(fields), "};"]
            if state.trailing is not None:
                raise self.v.fail(f"{st['name']}: only a datagram's item must use the whole input")
            peek = "quic::kNoPeek" if state.peek is None else _size(state.peek)
            transitions = name if rows else "{}"
            accept = "true" if state.at_end == "accept" else "false"
            states.append(
                f"    {{.peek = {peek}, .frame = {frame}, .transitions = {transitions}, .accept_at_end = {accept}, .unknown = {_reason(state.unknown_reason)}}},"  # noqa: E501
            )
        out += [f"constexpr quic::StreamState {table}_states[] = {{", *states, "};", "}  // namespace", ""]
        table_fields = {
            "name": cstr(st["name"]),
            "states": f"{table}_states",
            "initial": index[sp.initial],
            "buffer_reason": _reason(sp.buffer_reason),
            "empty_item_reason": _reason(sp.empty_item_reason),
        }
        out += [f"const quic::StreamTable {grammar}::kTable = {{", *_designated(table_fields), "};"]
        out.append("")
        out.append(f"bool {grammar}::decode(std::size_t decoder, {_DECODE_PARAMS.format(item=item)}) {{")
        if not any("flags" in line for body in decoders for line in body):
            out.append("  (void)flags;")
        out.append("  switch (decoder) {")
        for i, body in enumerate(decoders):
            out.append(f"    case {i}:" + (" {" if len(body) > 1 else ""))
            out += [f"      {line}" for line in body]
            out += ["    }"] if len(body) > 1 else []
        out += ["  }", "  return false;", "}", ""]
        return out

    def item_decoder(self, sp: plan.StreamPlan, tr: plan.Transition) -> list[str]:
        """The statements decoding a transition's item into `out` (true if it was appended):
        a header binding flags keeps them in `flags`, an object with args reads them from there."""
        t = self.tn(tr.struct)
        append = f"quic::append_item<{t}, dec>(r, code, {{}}, out)"
        if tr.binds_flags and any(x.args for x in self.v.state(sp, tr.next).transitions):
            hp = self.v.struct_plans[tr.struct]
            code_field = self.n.field(self.structs[tr.struct]["fields"][0]["words"])
            fs = "".join(f", f[{i}]" for i in range(len(hp.flags)))
            return [
                f"if (!{append}) return false;",
                f"bool f[{len(hp.flags)}] = {{}};",
                f"(void)variant_{t}(std::get<{t}>(out.back()).{code_field}{fs});",
                "flags = quic::pack_flags(f);",
                "return true;",
            ]
        if not tr.args:
            return [f"return {append};"]
        sets = [f"a.{self.n.field(b.arg.split('_'))} = ((flags >> {b.index}) & 1u) != 0;" for b in tr.args]
        return [f"{t}::Args a;", *sets, f"return {append.replace('{}', 'a')};"]

    def stream_json(self, st: WireStream) -> str:
        """The StreamOps::parse of a stream."""
        if st["kind"] == "datagram":
            sp = self.v.stream_plans[st["name"]]
            return f"parse_datagram_json<{self.tn(self.v.state(sp, sp.initial).transitions[0].struct)}>"
        return f"parse_stream_json<{self.n.type_name([*st['words'], 'parser'])}>"

    def registry(self) -> list[str]:
        out = ["namespace {", ""]
        rows = []
        for s in self.p["structs"]:
            name, args = self.tn(s["name"]), s["args"]
            if not args:
                rows.append(f"    wire_struct_ops<{name}>(),")
                continue
            rows.append(f"    wire_struct_ops<{name}, args_{name}>(kArgs_{name}),")
            out.append(f"{name}::Args args_{name}(const std::vector<bool>& args) {{")
            out.append(f"  {name}::Args a;")
            out += [f"  a.{self.n.field(x.split('_'))} = args.size() > {i} && args[{i}];" for i, x in enumerate(args)]
            out.append("  return a;")
            out.append("}")
            out.append(f"constexpr std::string_view kArgs_{name}[] = {{{', '.join(cstr(a) for a in args)}}};")
            out.append("")
        out += ["constexpr WireStructOps kStructs[] = {", *rows, "};", ""]
        out.append("constexpr StreamOps kStreams[] = {")
        out += [f"    {{{cstr(st['name'])}, {self.stream_json(st)}}}," for st in self.p["streams"]]
        out += ["};", "", "}  // namespace", ""]
        for ops, table, fn in (("WireStructOps", "kStructs", "find_struct"), ("StreamOps", "kStreams", "find_stream")):
            body = f"return find_named<{ops}>({table}, name);"
            out += [f"const {ops}* {fn}(std::string_view name) noexcept {{ {body} }}", ""]
        return out


def _reason(reason: str) -> str:
    return "Reason::k" + "".join(w.capitalize() for w in reason.split("_"))


def _designated(fields: Mapping[str, object]) -> list[str]:
    """The lines of a designated initializer."""
    return [f"    .{k} = {v}," for k, v in fields.items()]


def _size(width: str) -> str:
    """A stream integer's size for quic::read_int (0: a varint)."""
    return "0" if width == "varint" else str(INT_SIZE[width])


# The parameters of a stream grammar's item decoder.
_DECODE_PARAMS = "quic::Reader& r, std::uint64_t code, quic::StreamFlags& flags, std::vector<{item}>& out"

# How C++ spells the plan's integer tests (a value is a std::uint64_t).
_OPS = Operators(
    literal=u64,
    member=lambda v, values: "(" + " || ".join(f"{v} == {u64(x)}" for x in values) + ")",
    parity="({a} & 1u) == {b}",
    negate="!{a}",
)


class _Codec:
    """What decoding and encoding one struct's plan share: slot names, conditions, operands.
    `obj` is how fields are reached (`out.` when decoding, `v.` when encoding)."""

    def __init__(self, e: ProtocolEmitter, s: WireStruct, sp: plan.StructPlan, obj: str) -> None:
        self.e = e
        self.s = s
        self.sp = sp
        self.obj = obj
        self.c = Code("  ")
        self.names: dict[str, str] = {"end": "end", "out": "out"}
        self.list_types: dict[str, plan.TypeDesc] = {}
        self.attr = {f["name"]: obj + e.n.field(f["words"]) for f in s["fields"]}

    def flag(self, name: str) -> str:
        return f"args.{self.e.n.field(name.split('_'))}" if name in self.sp.args else f"f_{name}"

    def field_value(self, field: str, optional: bool) -> str:
        return f"{self.attr[field]}.value_or(0)" if optional else self.attr[field]

    def cond(self, c: plan.Cond) -> str:
        if isinstance(c, plan.FieldTest) and c.optional and c.test != "eq":  # value_or(0) would pass it
            raise self.e.v.fail(f"{self.s['name']}: a {c.test} test of the conditional field {c.field}")
        return cond_test(c, _OPS, self.flag, lambda f: self.attr[f], lambda v, test: test(f"{v}.value_or(0)"))

    def operand(self, o: plan.Operand) -> str:
        if isinstance(o, plan.Var):
            if o.name not in self.names:
                self.names[o.name] = self.c.fresh("n")
            return self.names[o.name]
        if isinstance(o, plan.FieldValue):
            return self.field_value(o.field, o.optional)
        if isinstance(o, plan.Const):
            return f"{o.value}u"
        if isinstance(o, plan.Remaining):
            return f"({self.names[o.end]} - r.pos)"
        return f"{self.names[o.name]}.size()"

    def struct_args(self, struct: str, args: tuple[str, ...]) -> str:
        t = self.e.tn(struct)
        return f"{t}::Args{{{', '.join(self.flag(a.removeprefix('f_')) for a in args)}}}"

    def check(self, ind: int, op: plan.Check, fail: str) -> None:
        """An integer constraint; `fail` formats the error return from its message."""
        cond, msg = check_test(op, self.names[op.var], _OPS, lambda cs, v: f"!{self.e.code_type(cs)}::contains({v})")
        self.c.add(ind, f"if ({cond}) " + fail.format(msg=f"{op.where}: {msg}"))

    def variant_flags(self, op: plan.Variant) -> str:
        return f"variant_{self.e.tn(op.struct)}({self.names[op.var]}{''.join(', ' + f.var for f in op.flags)})"

    def prologue(self) -> None:
        if not self.sp.args:
            self.c.add(1, "(void)args;")
        for fl in self.sp.flags:
            self.c.add(1, f"bool f_{fl} = false;")


class _Decoder(_Codec):
    """A struct's decode ops as C++ reading in place into `out`. Temporaries are named as this
    target always named them, a value's names taken before its ops are written: a string's
    `raw` then its `o`, a list's `o`, a frame's `fe` before its length `n`."""

    def fn(self) -> list[str]:
        name = self.e.tn(self.s["name"])
        self.c.add(0, f"bool dec(quic::Reader& r, std::size_t end, const {name}::Args& args, {name}& out) {{")
        self.prologue()
        for begin, ops in split_fields(self.sp.decode):
            self.names[begin.var] = self.attr[begin.field]
            own = [op for op in ops if not isinstance(op, (plan.Optional, plan.Variant))]
            if own:
                self.value(1, begin.var, own)
            for op in ops:
                if isinstance(op, plan.Optional):
                    self.c.add(1, f"if ({self.cond(op.cond)}) {{")
                    tmp = self.c.fresh("t")
                    self.c.add(2, f"auto& {tmp} = {self.attr[begin.field]}.emplace();")
                    self.names[op.item] = tmp
                    self.value(2, op.item, op.body)
                    self.c.add(1, "}")
                elif isinstance(op, plan.Variant):
                    self.c.add(1, f"if (!{self.variant_flags(op)}) {{")
                    msg = f'"{op.struct}: unknown type " + std::to_string({self.names[op.var]})'
                    self.c.add(2, f"return r.fail({_reason(op.reason)}, {msg});")
                    self.c.add(1, "}")
        if not self.sp.fields:
            self.c.add(1, "(void)r;")
            self.c.add(1, "(void)end;")
            self.c.add(1, "(void)out;")
        self.c.add(1, "return true;")
        self.c.add(0, "}")
        self.c.add(0, "")
        return self.c.lines

    def value(self, ind: int, target: str, ops: Sequence[plan.Op]) -> None:
        """One value's ops, its temporaries named (and a string's raw bytes declared) first."""
        kind = next(op for op in ops if getattr(op, "var", None) == target and not isinstance(op, plan.Mark))
        fresh = self.c.fresh
        if isinstance(kind, (plan.ReadBytes, plan.ReadFixed)):
            if kind.utf8:
                self.names[target + "#raw"] = fresh("raw")
                self.c.add(ind, f"Bytes {self.names[target + '#raw']};")
            self.names[target + "#o"] = fresh("o")
        if isinstance(kind, plan.NewList):
            self.names[target + "#o"] = fresh("o")
            self.c.add(ind, f"const std::size_t {self.names[target + '#o']} = r.pos;")
        if not isinstance(kind, plan.ReadInt):
            for op in ops:
                if isinstance(op, plan.OpenFrame):
                    self.names[op.var] = fresh("fe")
        self.ops(ind, target, ops)

    def ops(self, ind: int, target: str, ops: Sequence[plan.Op]) -> None:
        n, c = self.names, self.c
        for i, op in enumerate(ops):
            if isinstance(op, plan.Mark):
                if op.var == target + "_at":
                    n[op.var] = n[target + "#o"]  # a list's start, declared with the list
                else:
                    n[op.var] = c.fresh("o")
                    c.add(ind, f"const std::size_t {n[op.var]} = r.pos;")
            elif isinstance(op, plan.ReadInt):
                if op.var != target:  # a length or count (named already if an op before it read it)
                    c.add(ind, f"std::uint64_t {self.operand(plan.Var(op.var))} = 0;")
                read = "r.varint(" if op.width == "varint" else f"r.uint({INT_SIZE[op.width]}, "
                c.add(ind, f"if (!{read}{n[op.end]}, {n[op.var]})) return false;")
            elif isinstance(op, plan.Check):
                self.check(ind, op, f'return r.fail_at({_reason(op.reason)}, "{{msg}}", {n[str(op.at)]});')
            elif isinstance(op, plan.Limit):
                subject = self.operand(op.subject)
                msg = f"{op.where}: {op.unit} over {op.limit}"
                c.add(ind, f'if ({subject} > {u64(op.limit)}) return r.fail({_reason(op.reason)}, "{msg}");')
            elif isinstance(op, (plan.ReadBytes, plan.ReadFixed)):
                place = n[op.var]
                raw = n.get(op.var + "#raw", place)
                o = n[op.var + "#o"]
                c.add(ind, f"const std::size_t {o} = r.pos;")
                if isinstance(op, plan.ReadFixed):
                    c.add(ind, f"if (!r.fixed({op.size}u, {n[op.end]}, {raw})) return false;")
                else:
                    c.add(ind, f"if (!r.raw({self.operand(op.length)}, {n[op.end]}, {raw})) return false;")
                if op.utf8:
                    c.add(ind, f"if (!r.text({raw}, {o}, {place})) return false;")
                else:
                    c.add(ind, f"(void){o};")
            elif isinstance(op, plan.OpenFrame):
                if isinstance(op.length, plan.Remaining):
                    c.add(ind, f"const std::size_t {n[op.var]} = {n[op.end]};")
                else:
                    c.add(ind, f"std::size_t {n[op.var]} = 0;")
                    c.add(ind, f"if (!r.sub_end({self.operand(op.length)}, {n[op.end]}, {n[op.var]})) return false;")
            elif isinstance(op, plan.ExpectEnd):
                msg = f"{op.where}: bytes left in its frame"
                c.add(ind, f'if (r.pos != {n[op.end]}) return r.fail({_reason(op.reason)}, "{msg}");')
            elif isinstance(op, plan.DecodeStruct):
                args = self.struct_args(op.struct, op.args)
                c.add(ind, f"if (!dec(r, {n[op.end]}, {args}, {n[op.var]})) return false;")
            elif isinstance(op, plan.NewList):
                self.list_types[op.var] = op.type  # the field is the list; elements are decoded in place
            elif isinstance(op, plan.MinCount):
                subject = self.operand(op.subject)
                msg = f"{op.where}: too few elements"
                o = n[str(op.at)] if op.at else "r.pos"
                c.add(ind, f'if ({subject} < {op.min}u) return r.fail_at({_reason(op.reason)}, "{msg}", {o});')
            elif isinstance(op, plan.Need):
                count = f"static_cast<std::size_t>({self.operand(op.count)})"
                c.add(ind, f"if (!r.need({count} * {op.min_bytes}u, {n[op.end]})) return false;")
            elif isinstance(op, plan.Room):
                msg = f"{op.where}: more than {op.max} elements"
                c.add(ind, f'if ({n[op.list]}.size() >= {op.max}u) return r.fail({_reason(op.reason)}, "{msg}");')
            elif isinstance(op, (plan.Repeat, plan.UntilEnd)):
                self.loop(ind, target, op)
                if not any(isinstance(x, plan.MinCount) for x in ops[i + 1 :]):
                    c.add(ind, f"(void){n[target + '#o']};")
            elif isinstance(op, plan.Append):
                continue  # the element was decoded in place
            else:
                raise self.e.v.fail(f"{self.s['name']}: {op.op} is not rendered here")

    def loop(self, ind: int, target: str, op: plan.Repeat | plan.UntilEnd) -> None:
        n, c = self.names, self.c
        item, element = loop_item(op.body)
        if isinstance(op, plan.Repeat):
            count = self.operand(op.count)
            c.add(ind, f"{n[target]}.reserve(static_cast<std::size_t>({count}));")
            i = c.fresh("i")
            c.add(ind, f"for (std::uint64_t {i} = 0; {i} < {count}; ++{i}) {{")
        else:
            c.add(ind, f"while (r.pos < {n[op.end]}) {{")
        self.ops(ind + 1, target, [x for x in op.body if isinstance(x, plan.Room)])
        x = c.fresh("x")
        elem = self.list_types[target].element
        assert elem is not None
        c.add(ind + 1, f"{self.e.ctype(elem)}& {x} = {n[target]}.emplace_back();")
        n[item] = x
        self.value(ind + 1, item, element)
        c.add(ind, "}")


class _Encoder(_Codec):
    """A struct's encode ops as C++ appending to `out` (a length-prefixed value to its own buffer)."""

    def __init__(self, e: ProtocolEmitter, s: WireStruct, sp: plan.StructPlan, obj: str) -> None:
        super().__init__(e, s, sp, obj)
        self.text: dict[str, bool] = {}  # a byte slot that views a string (written through as_bytes)

    def fn(self) -> list[str]:
        name = self.e.tn(self.s["name"])
        self.c.add(0, f"Status enc(ByteVec& out, const {name}& v, const {name}::Args& args) {{")
        self.prologue()
        for begin, ops in split_fields(self.sp.encode):
            self.names[begin.var] = self.attr[begin.field]
            self.ops(1, ops)
        if not self.sp.fields:
            self.c.add(1, "(void)out;")
            self.c.add(1, "(void)v;")
        self.c.add(1, "return {};")
        self.c.add(0, "}")
        self.c.add(0, "")
        return self.c.lines

    def ops(self, ind: int, ops: Sequence[plan.Op]) -> None:
        n, c = self.names, self.c
        for op in ops:
            if isinstance(op, plan.Check):
                self.check(ind, op, 'return encode_error("{msg}");')
            elif isinstance(op, plan.WriteInt):
                write = "quic::write_varint(" if op.width == "varint" else "quic::write_uint("
                size = "" if op.width == "varint" else f", {INT_SIZE[op.width]}"
                c.add(ind, f"if (Status st = {write}{n[op.out]}, {n[op.value]}{size}); !st) return st;")
            elif isinstance(op, plan.AsBytes):
                n[op.var] = n[op.value]
                self.text[op.var] = op.utf8
            elif isinstance(op, plan.Limit):
                msg = f"{op.where}: {op.unit} over {op.limit}"
                c.add(ind, f'if ({self.operand(op.subject)} > {u64(op.limit)}) return encode_error("{msg}");')
            elif isinstance(op, plan.MinCount):
                msg = f"{op.where}: fewer than {op.min} elements"
                c.add(ind, f'if ({self.operand(op.subject)} < {op.min}u) return encode_error("{msg}");')
            elif isinstance(op, plan.WriteLength):
                self.write_length(ind, op)
            elif isinstance(op, plan.WriteBytes):
                value = f"as_bytes({n[op.value]})" if self.text.get(op.value) else n[op.value]
                c.add(ind, f"append({n[op.out]}, {value});")
            elif isinstance(op, plan.EncodeStruct):
                args = self.struct_args(op.struct, op.args)
                c.add(ind, f"if (Status st = enc({n[op.out]}, {n[op.value]}, {args}); !st) return st;")
            elif isinstance(op, plan.NewBuffer):
                n[op.var] = c.fresh("buf")
                c.add(ind, f"ByteVec {n[op.var]};")
            elif isinstance(op, plan.WriteBuffer):
                c.add(ind, f"append({n[op.out]}, {n[op.buffer]});")
            elif isinstance(op, plan.ForEach):
                n[op.item] = c.fresh("x")
                c.add(ind, f"for (const auto& {n[op.item]} : {n[op.list]}) {{")
                self.ops(ind + 1, op.body)
                c.add(ind, "}")
            elif isinstance(op, plan.Optional):
                fld = n[op.var]
                text = plan_cond_text(op.cond)
                c.add(ind, f"if ({self.cond(op.cond)}) {{")
                c.add(ind + 1, f'if (!{fld}) return encode_error("{op.where} is required when {text}");')
                n[op.item] = f"(*{fld})"
                self.ops(ind + 1, op.body)
                c.add(ind, f"}} else if ({fld}) {{")
                c.add(ind + 1, f'return encode_error("{op.where} must be absent unless {text}");')
                c.add(ind, "}")
            elif isinstance(op, plan.Variant):
                c.add(ind, f'if (!{self.variant_flags(op)}) return encode_error("{op.struct}: unknown type");')
            else:
                raise self.e.v.fail(f"{self.s['name']}: {op.op} is not rendered here")

    def write_length(self, ind: int, op: plan.WriteLength) -> None:
        subject = self.operand(op.subject)
        if op.kind == "varint":
            self.c.add(ind, f"if (Status st = quic::write_varint({self.names[op.out]}, {subject}); !st) return st;")
        elif op.kind == "field" and op.field is not None:
            ref = self.operand(op.field)
            msg = f"{op.where}: its length does not match {op.field.field}"
            self.c.add(ind, f'if ({subject} != {ref}) return encode_error("{msg}");')
        elif op.kind == "fixed":
            self.c.add(ind, f'if ({subject} != {op.size}u) return encode_error("{op.where}: length is not {op.size}");')
