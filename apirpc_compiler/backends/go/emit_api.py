"""Enums, services, bridges and the message registry of the root package."""

from __future__ import annotations

import re

from ...ir.model import IR, Enum, JsonValue
from .emit_messages import GO_SCALAR
from .namer import GoNamer
from .text import Code, go_string

_ATTR_TYPE = {**GO_SCALAR, "bytes": "string"}  # a bytes attribute is spelled as a string constant


_KEYED = re.compile(r"^(\t+)([A-Za-z]\w*): (.*[^{])$")


def align_keyed(lines: list[str]) -> list[str]:
    """Align runs of one-line `Key: value,` elements the way gofmt does."""
    out = list(lines)
    matches = [_KEYED.match(line) for line in out]
    i = 0
    while i < len(out):
        first = matches[i]
        j = i
        while j < len(out):
            m = matches[j]
            if m is None or first is None or m.group(1) != first.group(1):
                break
            j += 1
        run = [m for m in matches[i:j] if m is not None]
        if len(run) > 1:
            width = max(len(m.group(2)) for m in run)
            for k, m in enumerate(run):
                out[i + k] = f"{m.group(1)}{m.group(2)}:{' ' * (width - len(m.group(2)) + 1)}{m.group(3)}"
        i = max(j, i + 1)
    return out


def _lit(v: JsonValue) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return go_string(v)
    return repr(v)


def _str_list(items: list[str]) -> str:
    return "[]string{" + ", ".join(go_string(x) for x in items) + "}"


class ApiEmitter:
    def __init__(self, ir: IR, namer: GoNamer) -> None:
        self.ir = ir
        self.n = namer

    # ---- enums ----
    def enums(self) -> str:
        c = Code()
        for e in self.ir["enums"]:
            self.enum(c, e)
        return "\n".join(c.lines).rstrip("\n") + "\n"

    def enum(self, c: Code, e: Enum) -> None:
        t = self.n.type_name(e["words"])
        consts = {v["name"]: self.n.enum_const(e["words"], v["words"]) for v in e["values"]}
        c.blank()
        c.doc(0, e["doc"])
        c.doc(0, "Open: numbers this version does not define are kept as they are.")
        c.add(0, f"type {t} int32")
        c.add(0, "")
        c.add(0, f"// The values of {t}.")
        c.add(0, "const (")
        for i, v in enumerate(e["values"]):
            if i:
                c.add(0, "")
            c.doc(1, v["doc"], 92)
            c.add(1, f"{consts[v['name']]} {t} = {v['number']}")
        c.add(0, ")")
        c.add(0, "")
        c.add(0, f"// Enum returns a pointer to a copy of e, for optional {t} fields.")
        c.add(0, f"func (e {t}) Enum() *{t} {{ return &e }}")
        c.add(0, "")
        c.add(0, "// String is the IDL name of the value, or its number when it is unknown.")
        c.add(0, f"func (e {t}) String() string {{")
        c.switch("e", ((consts[v["name"]], go_string(v["name"])) for v in e["values"]), "strconv.Itoa(int(e))")
        c.close()
        c.add(0, "// JSONName is the ProtoJSON name of the value; false when the value is unknown.")
        c.add(0, f"func (e {t}) JSONName() (string, bool) {{")
        c.switch("e", ((consts[v["name"]], go_string(v["json_name"]) + ", true") for v in e["values"]), '"", false')
        c.close()
        c.add(0, "// IsKnown reports whether this version defines the value.")
        c.add(0, f"func (e {t}) IsKnown() bool {{")
        c.add(1, "_, ok := e.JSONName()")
        c.add(1, "return ok")
        c.close()
        c.add(0, f"// {t}FromJSONName looks a value up by its ProtoJSON name.")
        c.add(0, f"func {t}FromJSONName(s string) ({t}, bool) {{")
        c.switch("s", ((go_string(v["json_name"]), consts[v["name"]] + ", true") for v in e["values"]), "0, false")
        c.close()
        c.add(0, f"func lookup{t}(s string) (int32, bool) {{")
        c.add(1, f"v, ok := {t}FromJSONName(s)")
        c.add(1, "return int32(v), ok")
        c.close()
        c.add(0, f"func appendJSON{t}(b []byte, e {t}) []byte {{")
        c.add(1, "if n, ok := e.JSONName(); ok {")
        c.add(2, "return rt.AppendString(b, n)")
        c.add(1, "}")
        c.add(1, "return strconv.AppendInt(b, int64(e), 10)")
        c.close()
        for a in e["attributes"]:
            gt = _ATTR_TYPE[a["type"]]
            m = self.n.exported(a["words"])
            c.doc(0, f"{m}: {a['doc']} The zero value for unknown values.")
            c.add(0, f"func (e {t}) {m}() {gt} {{")
            zero = {"bool": "false", "string": '""'}.get(gt, "0")
            c.switch("e", ((consts[v["name"]], _lit(v["attributes"][a["name"]])) for v in e["values"]), zero)
            c.close()
        tr = e["transitions"]
        if tr is not None:
            c.add(0, "// CanTransition reports whether the state machine allows moving from e to next.")
            c.add(0, f"func (e {t}) CanTransition(next {t}) bool {{")
            edges = [
                (consts[a], " || ".join(f"next == {consts[b]}" for b in to)) for a, to in tr["edges"].items() if to
            ]
            c.switch("e", edges, "false")
            c.close()
            for fn, states, what in (
                ("IsTerminal", tr["terminal"], "terminal"),
                ("IsInitial", tr["initial"], "initial"),
            ):
                c.add(0, f"// {fn} reports whether e is a {what} state.")
                c.add(0, f"func (e {t}) {fn}() bool {{")
                c.switch("e", [(", ".join(consts[s] for s in states), "true")], "false")
                c.close()

    # ---- services ----
    def services(self) -> str:
        c = Code()
        # uint64, the type of the envelope's MethodID, so a constant is assigned without a conversion.
        c.add(0, "// The method IDs, one per method of every service.")
        c.add(0, "const (")
        first = True
        for svc in self.ir["services"]:
            for m in svc["methods"]:
                if not first:
                    c.add(0, "")
                first = False
                const = self.n.method_const(svc["words"], m["words"])
                c.doc(1, f"{const} is the ID of {svc['name']}.{m['name']}: {m['doc']}", 92)
                c.add(1, f"{const} uint64 = {m['id']}")
        c.add(0, ")")
        c.add(0, "")
        for svc in self.ir["services"]:
            var = self.n.service_var(svc["words"])
            c.doc(0, f"{var} describes {svc['name']}: {svc['doc']}")
            c.add(0, f"var {var} = &ServiceDescriptor{{")
            c.add(1, f"Name: {go_string(svc['name'])},")
            c.add(1, f"Doc: {go_string(svc['doc'])},")
            c.add(1, f"Legacy: {'true' if svc['legacy'] else 'false'},")
            c.add(1, "Methods: []*MethodDescriptor{")
            for m in svc["methods"]:
                http = "nil"
                if m["http"] is not None:
                    h = m["http"]
                    http = (
                        f"&HTTPRule{{Method: {go_string(h['method'])}, Path: {go_string(h['path'])}, "
                        f"PathParams: {_str_list(h['path_params'])}, Body: {go_string(h['body'] or '')}}}"
                    )
                c.add(
                    2,
                    f"{{Service: {go_string(svc['name'])}, Name: {go_string(m['name'])}, "
                    f"ID: {self.n.method_const(svc['words'], m['words'])}, Request: {go_string(m['request'])}, "
                    f"Response: {go_string(m['response'])}, Idempotent: {'true' if m['idempotent'] else 'false'}, "
                    f"Streaming: {go_string(m['streaming'])}, HTTP: {http}, Doc: {go_string(m['doc'])}}},",
                )
            c.add(1, "},")
            ids = ", ".join(f"{{{lo}, {hi}}}" for lo, hi in svc["reserved_ids"])
            c.add(1, f"ReservedIDs: [][2]uint64{{{ids}}},")
            c.add(1, f"ReservedNames: {_str_list(svc['reserved_names'])},")
            c.close()
        c.add(0, "// Services lists every service in IDL order.")
        c.add(
            0,
            "var Services = []*ServiceDescriptor{"
            + ", ".join(self.n.service_var(s["words"]) for s in self.ir["services"])
            + "}",
        )
        return "\n".join(align_keyed(c.lines)).rstrip("\n") + "\n"

    # ---- bridges and track kinds ----
    def bridges(self) -> str:
        c = Code()
        c.add(0, "// TrackKinds lists the MoQT track kinds.")
        c.add(0, "var TrackKinds = []TrackKind{")
        for k in self.ir["track_kinds"]:
            c.add(
                1,
                f"{{Name: {go_string(k['name'])}, Doc: {go_string(k['doc'])}, "
                f"Delivery: {_str_list(k['delivery'])}, Priority: {go_string(k['priority'])}}},",
            )
        c.close()
        for b in self.ir["bridges"]:
            var = self.n.bridge_var(b["words"])
            c.doc(0, f"{var} is the bridge {b['name']}: {b['doc']}")
            c.add(0, f"var {var} = &Bridge{{")
            c.add(1, f"Name: {go_string(b['name'])},")
            c.add(1, f"Doc: {go_string(b['doc'])},")
            c.add(1, f"Namespace: {go_string(b['namespace'])},")
            c.add(1, f"Capability: {go_string(b['capability'])},")
            c.add(1, "Tracks: []BridgeTrack{")
            for t in b["tracks"]:
                c.add(2, f"{{Name: {go_string(t['name'])}, Kind: {go_string(t['kind'])}, Doc: {go_string(t['doc'])}}},")
            c.add(1, "},")
            c.add(1, "Roles: []BridgeRole{")
            for r in b["roles"]:
                c.add(
                    2,
                    f"{{Name: {go_string(r['name'])}, Doc: {go_string(r['doc'])}, "
                    f"Publish: {_str_list(r['publish'])}, Subscribe: {_str_list(r['subscribe'])}}},",
                )
            c.add(1, "},")
            c.close()
            for t in b["tracks"]:
                fn = self.n.exported([*b["words"], *t["words"], "track"])
                c.add(0, f"// {fn} is the full name of the {t['name']} track of call sid on {b['name']}.")
                c.add(0, f"func {fn}(sid string) string {{")
                c.add(1, f"return {var}.MustTrackName(sid, {go_string(t['name'])})")
                c.close()
        c.add(0, "// Bridges lists every bridge in IDL order.")
        c.add(0, f"var Bridges = []*Bridge{{{', '.join(self.n.bridge_var(b['words']) for b in self.ir['bridges'])}}}")
        auth = self.ir["auth"]
        if auth is not None:
            c.add(0, "")
            c.add(0, "// AuthScheme is the scheme of the tenant token.")
            c.add(0, f"const AuthScheme = {go_string(auth['scheme'])}")
            c.add(0, "")
            c.add(0, "// AuthClaims is the IDL name of the message holding the tenant token's claims.")
            c.add(0, f"const AuthClaims = {go_string(auth['claims'])}")
        return "\n".join(align_keyed(c.lines)).rstrip("\n") + "\n"

    # ---- registry ----
    def registry(self) -> str:
        c = Code()
        c.add(0, "// NewMessage returns a new empty message of the IDL type name, or nil.")
        c.add(0, "func NewMessage(name string) Message {")
        c.switch(
            "name", ((go_string(m["name"]), f"new({self.n.type_name(m['words'])})") for m in self.ir["messages"]), "nil"
        )
        c.close()
        c.add(0, "// MessageNames lists the IDL names of every message in IDL order.")
        c.add(0, "func MessageNames() []string {")
        c.add(1, f"return {_str_list([m['name'] for m in self.ir['messages']])}")
        c.add(0, "}")
        return "\n".join(c.lines).rstrip("\n") + "\n"
