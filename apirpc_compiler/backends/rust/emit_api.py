"""IR services and bridges -> `src/services.rs` and `src/bridges.rs`."""

from __future__ import annotations

from ...ir.model import IR
from .namer import RustNamer
from .text import Lines, rust_str


def _strs(items: list[str]) -> str:
    return "&[" + ", ".join(rust_str(x) for x in items) + "]"


def _descriptor(c: Lines, doc: str, name: str, fields: tuple[tuple[str, str, str], ...]) -> None:
    """A blank line, then a documented `Copy` struct of static descriptor fields (name, type, doc)."""
    c()
    c(f"/// {doc}")
    c("#[derive(Clone, Copy, Debug, PartialEq, Eq)]")
    c.open(f"pub struct {name} {{")
    for f, t, d in fields:
        c(f"/// {d}")
        c(f"pub {f}: {t},")
    c.close()


def services_rs(ir: IR, n: RustNamer) -> str:
    c = Lines()
    c("/// How a method streams.")
    c("#[derive(Clone, Copy, Debug, PartialEq, Eq)]")
    c.open("pub enum Streaming {")
    for v, d in (
        ("None", "One request, one response."),
        ("Client", "A stream of requests, one response."),
        ("Server", "One request, a stream of responses."),
        ("Bidi", "Streams both ways."),
    ):
        c(f"/// {d}")
        c(f"{v},")
    c.close()
    _descriptor(
        c,
        "An HTTP route of a method.",
        "HttpRule",
        (
            ("method", "&'static str", "The HTTP method (`GET`, `POST`, ...)."),
            ("path", "&'static str", "The path template (`/v1/calls/{sid}`)."),
            ("path_params", "&'static [&'static str]", "The request fields the path binds."),
            ("body", "Option<&'static str>", "`*` (the rest of the request), a field name, or `None`."),
        ),
    )
    _descriptor(
        c,
        "One method of a service.",
        "MethodDescriptor",
        (
            ("name", "&'static str", "The IDL name."),
            ("id", "u64", "The method id (unique across the API); the type of `Envelope::method_id`."),
            ("request", "&'static str", "The request message's IDL name."),
            ("response", "&'static str", "The response message's IDL name."),
            ("idempotent", "bool", "Whether a retry is safe."),
            ("streaming", "Streaming", "How it streams."),
            ("http", "Option<HttpRule>", "The HTTP route, if any."),
            ("doc", "&'static str", "The IDL doc."),
        ),
    )
    _descriptor(
        c,
        "One service.",
        "ServiceDescriptor",
        (
            ("name", "&'static str", "The IDL name."),
            ("legacy", "bool", "Whether it is a legacy service."),
            ("methods", "&'static [MethodDescriptor]", "Its methods."),
            ("reserved_ids", "&'static [(u64, u64)]", "Reserved method id ranges (inclusive)."),
            ("reserved_names", "&'static [&'static str]", "Reserved method names."),
        ),
    )
    for s in ir["services"]:
        for m in s["methods"]:
            c()
            c.doc(f"{s['name']}.{m['name']}: {m['doc']}")
            c(f"pub const {n.const_name(['method', *s['words'], *m['words']])}: u64 = {m['id']};")
    for s in ir["services"]:
        c()
        c.doc(s["doc"] or s["name"])
        c.open(f"pub const {n.const_name(s['words'])}: ServiceDescriptor = ServiceDescriptor {{")
        c(f"name: {rust_str(s['name'])},")
        c(f"legacy: {'true' if s['legacy'] else 'false'},")
        c.open("methods: &[")
        for m in s["methods"]:
            c.open("MethodDescriptor {")
            c(f"name: {rust_str(m['name'])},")
            c(f"id: {n.const_name(['method', *s['words'], *m['words']])},")
            c(f"request: {rust_str(m['request'])},")
            c(f"response: {rust_str(m['response'])},")
            c(f"idempotent: {'true' if m['idempotent'] else 'false'},")
            c(f"streaming: Streaming::{m['streaming'].capitalize()},")
            h = m["http"]
            if h is None:
                c("http: None,")
            else:
                c.open("http: Some(HttpRule {")
                c(f"method: {rust_str(h['method'])},")
                c(f"path: {rust_str(h['path'])},")
                c(f"path_params: {_strs(h['path_params'])},")
                c(f"body: {'None' if h['body'] is None else 'Some(' + rust_str(h['body']) + ')'},")
                c.close("}),")
            c.field("doc", rust_str(m["doc"]))
            c.close("},")
        c.close("],")
        c(f"reserved_ids: &[{', '.join(f'({lo}, {hi})' for lo, hi in s['reserved_ids'])}],")
        c(f"reserved_names: {_strs(s['reserved_names'])},")
        c.close("};")
    c()
    c("/// Every service, in IDL order.")
    c.array(
        f"pub const SERVICES: [ServiceDescriptor; {len(ir['services'])}] = ",
        [n.const_name(s["words"]) for s in ir["services"]],
        ";",
    )
    c()
    c("/// The method with this id, and its service.")
    c("pub fn method_by_id(id: u64) -> Option<(&'static ServiceDescriptor, &'static MethodDescriptor)> {")
    c("    SERVICES")
    c("        .iter()")
    c("        .find_map(|s| s.methods.iter().find(|m| m.id == id).map(|m| (s, m)))")
    c("}")
    return c.text()


def bridges_rs(ir: IR, n: RustNamer) -> str:
    c = Lines()
    c("/// A MoQT track kind and how it is delivered.")
    c("#[derive(Clone, Copy, Debug, PartialEq, Eq)]")
    c.open("pub struct TrackKind {")
    c("/// The kind's name.")
    c("pub name: &'static str,")
    c("/// The deliveries it uses (`subgroup`, `datagram`).")
    c("pub delivery: &'static [&'static str],")
    c("/// `per_track` or `per_object`.")
    c("pub priority: &'static str,")
    c.close()
    c()
    c("/// Every track kind.")
    c(f"pub const TRACK_KINDS: [TrackKind; {len(ir['track_kinds'])}] = [")
    for k in ir["track_kinds"]:
        c(f"    // {k['doc']}")
        c("    TrackKind {")
        c(f"        name: {rust_str(k['name'])},")
        c(f"        delivery: {_strs(k['delivery'])},")
        c(f"        priority: {rust_str(k['priority'])},")
        c("    },")
    c("];")
    for b in ir["bridges"]:
        const = n.const_name(b["words"])
        fn = n.plain(n.fn_name(b["words"]))
        c()
        c.doc(b["doc"] or b["name"])
        c.doc(f"Namespace template: `{b['namespace']}`; capability tag template: `{b['capability']}`.")
        c(f"pub const {const}_NAMESPACE: &str = {rust_str(b['namespace'])};")
        c(f"/// The capability tag template of {b['name']}.")
        c(f"pub const {const}_CAPABILITY: &str = {rust_str(b['capability'])};")
        c()
        c(f"/// The track namespace of {b['name']} for call `sid`.")
        c(f"pub fn {fn}_namespace(sid: &str) -> String {{")
        c(f'    {const}_NAMESPACE.replace("{{sid}}", sid)')
        c("}")
        c()
        c(f"/// The capability tag of {b['name']} for a codec name (e.g. `opus`).")
        c(f"pub fn {fn}_capability(codec: &str) -> String {{")
        c(f'    {const}_CAPABILITY.replace("{{codec}}", codec)')
        c("}")
        for t in b["tracks"]:
            c()
            c.doc(f"The `{t['name']}` track ({t['kind']}) of call `sid`: {t['doc']}")
            c(f"pub fn {fn}_{n.plain(n.fn_name(t['words']))}_track(sid: &str) -> String {{")
            c(f'    format!("{{}}/{t["name"]}", {fn}_namespace(sid))')
            c("}")
        for r in b["roles"]:
            c()
            c.doc(
                f"Role `{r['name']}`: {r['doc']} Publishes {', '.join(r['publish']) or 'nothing'}; "
                f"subscribes {', '.join(r['subscribe']) or 'nothing'}."
            )
            c(f"pub const {const}_{n.const_name(r['words'])}_PUBLISH: &[&str] = {_strs(r['publish'])};")
            c(f"/// What role `{r['name']}` subscribes to.")
            c(f"pub const {const}_{n.const_name(r['words'])}_SUBSCRIBE: &[&str] = {_strs(r['subscribe'])};")
    if ir["auth"] is not None:
        c()
        c.doc(ir["auth"]["doc"])
        c(f"pub const AUTH_SCHEME: &str = {rust_str(ir['auth']['scheme'])};")
        c("/// The IDL name of the token's claims message.")
        c(f"pub const AUTH_CLAIMS: &str = {rust_str(ir['auth']['claims'])};")
    return c.text()
