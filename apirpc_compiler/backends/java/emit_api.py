"""IR errors, services, bridges -> `DecodeException`, `Services`, `Bridges`."""

from __future__ import annotations

import re

from ...ir.model import IR
from .namer import JavaNamer
from .text import javadoc, jstr, method


def decode_exception(ir: IR, pkg: str, header: str, n: JavaNamer) -> str:
    L = [header, f"package {pkg};", ""]
    L += javadoc(
        "The one error every decoder of the package throws on bad input (protobuf binary, ProtoJSON, "
        "wire protocols). Its reason is one of the IDL's decode error names, shared by every language; "
        "decoders never throw anything else on untrusted input.",
        0,
    )
    L.append("public final class DecodeException extends RuntimeException {")
    L.append("  private static final long serialVersionUID = 1L;")
    L.append("")
    L.append("  /** Why a decoder rejected its input. */")
    L.append("  public enum Reason {")
    for i, r in enumerate(ir["decode_errors"]):
        L += javadoc(r["doc"], 4)
        end = ";" if i == len(ir["decode_errors"]) - 1 else ","
        L.append(f"    {n.const_name(r['words'])}({jstr(r['name'])}){end}")
    L += ["", "    private final String wireName;"]
    L += method([], "Reason(String wireName)", "this.wireName = wireName;", ind=4)
    L += method("The reason's IDL name, e.g. {@code truncated}.", "public String wireName()", "return wireName;", ind=4)
    L += ["  }", "", "  private final Reason reason;"]
    doc = [
        "  /**",
        "   * A decode error.",
        "   *",
        "   * @param reason why",
        "   * @param message details for people",
        "   */",
    ]
    L += method(
        doc,
        "public DecodeException(Reason reason, String message)",
        'super(reason.wireName() + ": " + message);',
        "this.reason = reason;",
    )
    L += method("Why the input was rejected.", "public Reason reason()", "return reason;")
    L.append("}")
    return "\n".join(L) + "\n"


def _jbool(b: bool) -> str:
    return "true" if b else "false"


def services(ir: IR, pkg: str, header: str, n: JavaNamer) -> str:
    L = [header, f"package {pkg};", ""]
    L.append("import java.util.List;")
    L.append("")
    L.append("/** Method IDs and service descriptors (HTTP rules, idempotency, streaming) of the API. */")
    L.append("public final class Services {")
    L.append("  private Services() {}")
    L.append("")
    L.append("  /** An HTTP mapping of a method. */")
    L.append("  public record HttpRule(String method, String path, List<String> pathParams, String body) {}")
    L.append("")
    L.append("  /** One method: its unique ID, message types, idempotency, streaming and HTTP rule. */")
    L.append("  public record MethodDescriptor(")
    L.append("      String service,")
    L.append("      String name,")
    L.append("      int id,")
    L.append("      String request,")
    L.append("      String response,")
    L.append("      boolean idempotent,")
    L.append("      String streaming,")
    L.append("      HttpRule http,")
    L.append("      String doc) {}")
    L.append("")
    L.append("  /** One service and its methods; reserved IDs are inclusive [lo, hi] ranges. */")
    L.append("  public record ServiceDescriptor(")
    L.append("      String name,")
    L.append("      boolean legacy,")
    L.append("      List<MethodDescriptor> methods,")
    L.append("      List<int[]> reservedIds,")
    L.append("      List<String> reservedNames,")
    L.append("      String doc) {}")
    for svc in ir["services"]:
        for m in svc["methods"]:
            L.append("")
            L += javadoc(f"{svc['name']}.{m['name']}: {m['doc']}", 2)
            L.append(f"  public static final int {n.const_name(['method', *svc['words'], *m['words']])} = {m['id']};")
    for svc in ir["services"]:
        const = n.const_name(svc["words"])
        L.append("")
        L += javadoc(svc["doc"], 2)
        methods = []
        for m in svc["methods"]:
            h = m["http"]
            http = "null"
            if h is not None:
                params = ", ".join(jstr(p) for p in h["path_params"])
                body = "null" if h["body"] is None else jstr(h["body"])
                http = f"new HttpRule({jstr(h['method'])}, {jstr(h['path'])}, List.of({params}), {body})"
            margs = [jstr(svc["name"]), jstr(m["name"]), str(m["id"]), jstr(m["request"]), jstr(m["response"])]
            margs += [_jbool(m["idempotent"]), jstr(m["streaming"]), http, jstr(m["doc"])]
            methods.append(f"new MethodDescriptor({', '.join(margs)})")
        ids = ", ".join(f"new int[] {{{lo}, {hi}}}" for lo, hi in svc["reserved_ids"])
        names = ", ".join(jstr(x) for x in svc["reserved_names"])
        sargs = [jstr(svc["name"]), _jbool(svc["legacy"]), f"List.of({', '.join(methods)})"]
        sargs += [f"List.of({ids})", f"List.of({names})", jstr(svc["doc"])]
        # One logical line; layout.fit breaks it.
        L.append(f"  public static final ServiceDescriptor {const} = new ServiceDescriptor({', '.join(sargs)});")
    L.append("")
    L.append("  /** Every service, in IDL order. */")
    consts = ", ".join(n.const_name(s["words"]) for s in ir["services"])
    L.append(f"  public static final List<ServiceDescriptor> ALL = List.of({consts});")
    loop = [
        "for (ServiceDescriptor s : ALL) {",
        "  for (MethodDescriptor m : s.methods()) {",
        "    if (m.id() == id) {",
    ]
    loop += ["      return m;", "    }", "  }", "}", "return null;"]
    L += method("The method with this ID, or null.", "public static MethodDescriptor byId(int id)", *loop)
    L.append("}")
    return "\n".join(L) + "\n"


def bridges(ir: IR, pkg: str, header: str, n: JavaNamer) -> str:
    enums = {"_".join(e["words"]): e for e in ir["enums"]}
    L = [header, f"package {pkg};", ""]
    L.append("import java.util.List;")
    L.append("")
    L.append("/** MoQT track kinds, media bridges (namespaces, tracks, roles) and the tenant token. */")
    L.append("public final class Bridges {")
    L.append("  private Bridges() {}")
    L.append("")
    L.append("  /** A kind of MoQT track: how its objects are delivered and prioritized. */")
    L.append("  public record TrackKind(String name, List<String> delivery, String priority, String doc) {}")
    L.append("")
    L.append("  /** One track of a bridge. */")
    L.append("  public record BridgeTrack(String name, String kind, String doc) {}")
    L.append("")
    L.append("  /** A role: which tracks it publishes and subscribes. */")
    L.append("  public record BridgeRole(String name, List<String> publish, List<String> subscribe, String doc) {}")
    L.append("")
    L.append("  /** A media bridge: a namespace template per call, its tracks and roles. */")
    L.append("  public record Bridge(")
    L.append("      String name,")
    L.append("      String namespace,")
    L.append("      String capability,")
    L.append("      List<BridgeTrack> tracks,")
    L.append("      List<BridgeRole> roles,")
    L.append("      String doc) {")
    doc = "The namespace of one call."
    L += method(doc, "public String namespaceFor(String sid)", 'return namespace.replace("{sid}", sid);', ind=4)[1:]
    find = [
        "for (BridgeTrack t : tracks) {",
        "  if (t.name().equals(track)) {",
        '    return namespaceFor(sid) + "/" + track;',
    ]
    find += ["  }", "}", 'throw new IllegalArgumentException("bridge " + name + " has no track " + track);']
    doc = "The full track name of {@code track} for one call."
    L += method(doc, "public String trackName(String sid, String track)", *find, ind=4)
    L.append("  }")
    L.append("")
    L.append("  /** Every track kind, in IDL order. */")
    kinds = []
    for k in ir["track_kinds"]:
        dl = ", ".join(jstr(d) for d in k["delivery"])
        kinds.append(f"new TrackKind({jstr(k['name'])}, List.of({dl}), {jstr(k['priority'])}, {jstr(k['doc'])})")
    L.append(f"  public static final List<TrackKind> TRACK_KINDS = List.of({', '.join(kinds)});")
    for b in ir["bridges"]:
        const = n.const_name(b["words"])
        L.append("")
        L += javadoc(b["doc"], 2)
        tracks = ", ".join(
            f"new BridgeTrack({jstr(t['name'])}, {jstr(t['kind'])}, {jstr(t['doc'])})" for t in b["tracks"]
        )
        roles = []
        for r in b["roles"]:
            pub = ", ".join(jstr(x) for x in r["publish"])
            sub = ", ".join(jstr(x) for x in r["subscribe"])
            roles.append(f"new BridgeRole({jstr(r['name'])}, List.of({pub}), List.of({sub}), {jstr(r['doc'])})")
        bargs = [jstr(b["name"]), jstr(b["namespace"]), jstr(b["capability"])]
        bargs += [f"List.of({tracks})", f"List.of({', '.join(roles)})", jstr(b["doc"])]
        L.append(f"  public static final Bridge {const} = new Bridge({', '.join(bargs)});")
        for t in b["tracks"]:
            doc = f"The {t['name']} track name of a call on {b['name']}: {b['namespace']}/{t['name']}."
            head = f"public static String {n.method_name([*t['words'], 'track'])}(String sid)"
            L += method(doc, head, f"return {const}.trackName(sid, {jstr(t['name'])});")
        # capability placeholders: an enum of the same name takes the enum; anything else a String.
        ph = re.findall(r"\{([a-z0-9_]+)\}", b["capability"])
        for p in ph:
            e = enums.get(p)
            if e is None:
                continue
            ec = n.class_name(e["words"])
            cases = []
            for v in e["values"]:
                cases += [f"  case {n.const_name(v['words'])}:", f"    name = {jstr(v['name'])};", "    break;"]
            L += method(
                f"The capability tag of {b['name']} for a {ec} ({b['capability']}).",
                f"public static String {n.method_name([*b['words'], 'capability'])}({ec} {p})",
                "String name;",
                f"switch ({p}) {{",
                *cases,
                "  default:",
                f'    throw new IllegalArgumentException("unknown {p}");',
                "}",
                f"return {const}.capability().replace({jstr('{' + p + '}')}, name);",
            )
    if ir["auth"] is not None:
        L.append("")
        L += javadoc(ir["auth"]["doc"], 2)
        L.append(f"  public static final String AUTH_SCHEME = {jstr(ir['auth']['scheme'])};")
        L.append("")
        L.append("  /** The IDL message name of the token's claims. */")
        L.append(f"  public static final String AUTH_CLAIMS = {jstr(ir['auth']['claims'])};")
    L.append("}")
    return "\n".join(L) + "\n"
