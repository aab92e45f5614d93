"""The `go` target: a Go module `github.com/clutchcall/clutchcall-go` under `generated/go/`.

Layout: the root package `clutchcall` (DTOs, enums, services, bridges, the message registry),
`internal/rt` (the shared runtime: the decode error, protobuf-wire and QUIC primitives, JSON
helpers), one package per wire protocol under `wire/` and the `wire` registry package. The
module depends on the standard library only. Tests read the golden vectors at run time from
$CLUTCHCALL_VECTORS (default: the repository's tests/vectors, found from generated/go).
"""

from __future__ import annotations

from pathlib import Path

from ...ir import plan
from ...ir.model import IR
from ...ir.naming import split_words
from ..base import Backend, GeneratedFile, NameClash, header_comment, header_lines, register
from ..common import shift_literal, template_env, wrap_text
from .emit_api import ApiEmitter
from .emit_messages import MessageEmitter
from .emit_wire import WireEmitter
from .namer import GoNamer, check_go_names
from .text import go_file, go_string

MODULE = "github.com/clutchcall/clutchcall-go"
ROOT_PACKAGE = "clutchcall"
_TEMPLATES = Path(__file__).parent / "templates"


class GoBackend:
    name = "go"
    description = "Go module (DTO codecs, ProtoJSON, services, bridges, wire protocols), standard library only"

    def check_names(self, ir: IR) -> list[NameClash]:
        return check_go_names(ir)

    def generate(self, ir: IR) -> list[GeneratedFile]:
        n = GoNamer()
        head = header_lines(ir)
        hc = header_comment(ir)
        env = template_env(_TEMPLATES, {"gostr": go_string})
        rt_path = f"{MODULE}/internal/rt"
        # the runtime's default parser bound is the plan's default; a protocol with its own spells it
        max_buffer = plan.ProtocolPlan("", (), (), ()).max_buffer
        reasons = [
            {"name": r["name"], "const": "Reason" + n.exported(r["words"]), "doc": wrap_text(r["doc"], 90)}
            for r in ir["decode_errors"]
        ]
        emitters = [WireEmitter(p, n, MODULE, max_buffer) for p in ir["wire"]]
        # a struct whose zero value fails first on an element minimum: the usability test encodes it
        min_count = next(
            (
                {"pkg": w.pkg, "type": w.t(sp.name), "where": ops[0].where}
                for w in emitters
                for sp in w.plan.structs
                if not sp.args
                and not sp.variants
                and (ops := [op for op in sp.encode[1:] if not isinstance(op, plan.Limit)])
                and isinstance(ops[0], plan.MinCount)
            ),
            None,
        )
        ctx = {
            "header": hc,
            "max_buffer": shift_literal(max_buffer),
            "min_count": min_count,
            "header_text": " ".join(head),
            "module": MODULE,
            "package": ROOT_PACKAGE,
            "ir_package": ir["package"],
            "reasons": reasons,
            "doc": [
                f"Package {ROOT_PACKAGE} is the Go SDK of {ir['package']}: {line}" if i == 0 else line
                for i, line in enumerate(wrap_text(ir["doc"], 90))
            ],
            "protocols": [{"name": p["name"], "pkg": n.package(p["words"])} for p in ir["wire"]],
            # The legacy RPC envelope gets a request constructor in the root package.
            "first_enum": n.type_name(ir["enums"][0]["words"]) if ir["enums"] else "",
            "first_method": next(
                (n.method_const(s["words"], m["words"]) for s in ir["services"] for m in s["methods"]), ""
            ),
            "envelope": next(({"pkg": n.package(p["words"])} for p in ir["wire"] if p["name"] == "envelope"), None),
        }
        files: list[GeneratedFile] = [GeneratedFile("go.mod", env.get_template("go.mod.j2").render(ctx))]
        for tpl, out in (
            ("root.go.j2", "clutchcall.go"),
            ("rt_errors.go.j2", "internal/rt/errors.go"),
            ("rt_proto.go.j2", "internal/rt/proto.go"),
            ("rt_json.go.j2", "internal/rt/json.go"),
            ("rt_quic.go.j2", "internal/rt/quic.go"),
            ("rt_stream.go.j2", "internal/rt/stream.go"),
            ("wire_registry.go.j2", "wire/wire.go"),
            ("dto_vectors_test.go.j2", "vectors_test.go"),
            ("wire_vectors_test.go.j2", "wire/vectors_test.go"),
            ("usability_test.go.j2", "usability_test.go"),
            ("rt_quic_test.go.j2", "internal/rt/quic_test.go"),
            ("rt_proto_test.go.j2", "internal/rt/proto_test.go"),
            ("rt_stream_test.go.j2", "internal/rt/stream_test.go"),
            ("example_test.go.j2", "example_test.go"),
            ("README.md.j2", "README.md"),
        ):
            files.append(GeneratedFile(out, env.get_template(tpl).render(ctx)))
        api = ApiEmitter(ir, n)
        msgs = MessageEmitter(ir, n)
        for out, body in (
            ("enums.go", api.enums()),
            ("messages.go", msgs.emit()),
            ("services.go", api.services()),
            ("bridges.go", api.bridges()),
            ("registry.go", api.registry()),
        ):
            files.append(GeneratedFile(out, go_file(head, [], ROOT_PACKAGE, body, [rt_path])))
        for p, wire in zip(ir["wire"], emitters, strict=True):
            pkg = n.package(p["words"])
            doc, body = wire.emit()
            files.append(GeneratedFile(f"wire/{pkg}/{pkg}.go", go_file(head, doc, pkg, body, [rt_path])))
        return files


@register("go")
def _factory() -> Backend:
    return GoBackend()


__all__ = ["MODULE", "GoBackend", "split_words"]
