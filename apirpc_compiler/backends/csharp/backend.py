"""The `csharp` target: an SDK-style project `ClutchCall.Sdk.csproj` under `generated/csharp/`.

netstandard2.0, C# 7.3 (it also compiles with Mono's `mcs`); namespace `ClutchCall.V1` and
`ClutchCall.V1.Wire.<Protocol>`. The runtime (varints, JSON, the wire reader and writer, the
stream state-machine walker) is rendered from templates/; DTOs and enums come from
emit_messages.py, wire protocols from emit_wire.py (a renderer of the IR's codec plan), and
services, bridges and registries from emit_api.py. The native vector tests (tests/) are
generated with the package and read `tests/vectors/*.json` through CLUTCHCALL_VECTORS.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ...ir.model import IR
from ..base import Backend, GeneratedFile, NameClash, header_comment, header_lines, register
from ..common import package_version, template_env
from .emit_api import bridges, registry, services, wire_registry
from .emit_messages import MessageEmitter
from .emit_wire import WireEmitter
from .namer import CSharpNamer, check_csharp_names

_TEMPLATES = Path(__file__).parent / "templates"


def root_namespace(ir: IR, n: CSharpNamer) -> str:
    """`clutchcall.v1` -> `ClutchCall.V1` (the product name keeps its two words)."""
    parts = ir["package"].split(".")
    out = []
    for p in parts:
        out.append("ClutchCall" if p == "clutchcall" else n.namespace_part([p]))
    return ".".join(out)


class CSharpBackend:
    name = "csharp"
    description = "C# (netstandard2.0, C# 7.3) project ClutchCall.Sdk: DTOs, enums, services, bridges, wire protocols"

    def __init__(self) -> None:
        self.namer = CSharpNamer()

    def check_names(self, ir: IR) -> list[NameClash]:
        return check_csharp_names(ir)

    def generate(self, ir: IR) -> list[GeneratedFile]:
        n = self.namer
        ns = root_namespace(ir, n)
        header = header_comment(ir)
        env = template_env(_TEMPLATES)
        ctx: dict[str, Any] = {"header": header, "namespace": ns}
        files: list[GeneratedFile] = []

        def put(path: str, template: str, **extra: Any) -> None:
            files.append(GeneratedFile(path, env.get_template(template).render(**ctx, **extra)))

        errors = [
            {"name": e["name"], "member": n.member(e["words"]), "doc": e["doc"].replace("<", "&lt;")}
            for e in ir["decode_errors"]
        ]
        put("ClutchCall.Sdk.csproj", "csproj.j2", version=package_version(ir), doc=ir["doc"].replace("&", "and"))
        put("README.md", "README.md.j2", header_text=" ".join(header_lines(ir)), doc=ir["doc"])
        put("src/Runtime.cs", "Runtime.cs.j2", errors=errors)
        put("src/Wire/WireRuntime.cs", "WireRuntime.cs.j2")
        put("tests/VectorTests.cs", "VectorTests.cs.j2", envelope=any(p["name"] == "envelope" for p in ir["wire"]))
        put("tests/run.sh", "run.sh.j2")
        me = MessageEmitter(ir, n, ns)
        body = [header, "using System;", "using System.Collections.Generic;", "", f"namespace {ns}", "{"]
        for i, e in enumerate(ir["enums"]):
            body += ([""] if i else []) + me.enum_source(e)
        body += ["}", ""]
        files.append(GeneratedFile("src/Enums.cs", "\n".join(body)))
        body = [header, "using System;", "using System.Collections.Generic;", "", f"namespace {ns}", "{"]
        for i, m in enumerate(ir["messages"]):
            body += ([""] if i else []) + me.message_source(m)
        body += ["}", ""]
        files.append(GeneratedFile("src/Messages.cs", "\n".join(body)))
        files.append(GeneratedFile("src/Services.cs", services(ir, n, header, ns)))
        files.append(GeneratedFile("src/Bridges.cs", bridges(ir, n, header, ns)))
        files.append(GeneratedFile("src/Registry.cs", registry(ir, n, header, ns)))
        for p in ir["wire"]:
            files.append(
                GeneratedFile(f"src/Wire/{n.namespace_part(p['words'])}.cs", WireEmitter(p, n, ns).source(header))
            )
        files.append(GeneratedFile("src/Wire/WireRegistry.cs", wire_registry(ir, n, header, ns)))
        return files


@register("csharp")
def _factory() -> Backend:
    return CSharpBackend()
