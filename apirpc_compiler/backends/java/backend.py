"""The Java target: a Maven package under `generated/java/` (see the README it generates).

Layout: `dev.clutchcall.v1` (enums, messages, services, bridges, the decode error, the message
registry), `dev.clutchcall.v1.internal` (protobuf wire, UTF-8 and JSON runtime: the JDK has no
JSON), `dev.clutchcall.v1.wire` (QUIC reader/writer, vector JSON format, parser base, struct and
stream registry) and `dev.clutchcall.v1.wire.<protocol>` per wire protocol. The native tests
read the golden vectors at run time from `$CLUTCHCALL_VECTORS` (default: the repo's
`tests/vectors`, found by walking up from the working directory); `FuzzTest` feeds mutated
vectors and random bytes to every decoder and parser.

The output is google-java-format clean without running the formatter: emitters write one
statement per line and `layout.fit` breaks the long ones as the formatter would; the static
runtime templates are stored formatted.
"""

from __future__ import annotations

from pathlib import Path

from ...ir.model import IR
from ..base import GeneratedFile, NameClash, header_comment, header_lines, register
from ..common import package_version, template_env
from .emit_api import bridges, decode_exception, services
from .emit_messages import MessageEmitter
from .emit_wire import generate_wire
from .layout import fit
from .namer import JavaNamer, check_java_names

_TEMPLATES = Path(__file__).parent / "templates"
ROOT_PACKAGE = "dev.clutchcall.v1"
_RUNTIME = [
    ("runtime/ProtoReader.java.j2", "internal/ProtoReader.java"),
    ("runtime/ProtoWriter.java.j2", "internal/ProtoWriter.java"),
    ("runtime/ProtoJson.java.j2", "internal/ProtoJson.java"),
    ("runtime/ProtoMessages.java.j2", "internal/ProtoMessages.java"),
    ("runtime/Json.java.j2", "internal/Json.java"),
    ("runtime/Utf8.java.j2", "internal/Utf8.java"),
    ("runtime/ProtoMessage.java.j2", "ProtoMessage.java"),
    ("runtime/MessageCodec.java.j2", "MessageCodec.java"),
    ("runtime/EncodeException.java.j2", "EncodeException.java"),
    ("wire/WireReader.java.j2", "wire/WireReader.java"),
    ("wire/WireWriter.java.j2", "wire/WireWriter.java"),
    ("wire/WireJson.java.j2", "wire/WireJson.java"),
    ("wire/WireStruct.java.j2", "wire/WireStruct.java"),
    ("wire/StreamParser.java.j2", "wire/StreamParser.java"),
    ("wire/StructCodec.java.j2", "wire/StructCodec.java"),
    ("wire/BufferedParser.java.j2", "wire/BufferedParser.java"),
    ("wire/Incomplete.java.j2", "wire/Incomplete.java"),
]


class JavaBackend:
    name = "java"
    description = "Java 17 SDK (Maven): DTO codecs, ProtoJSON, services, bridges, wire protocols"

    def generate(self, ir: IR) -> list[GeneratedFile]:
        n = JavaNamer()
        header = header_comment(ir)
        env = template_env(_TEMPLATES)
        main = "src/main/java/" + ROOT_PACKAGE.replace(".", "/")
        test = "src/test/java/" + ROOT_PACKAGE.replace(".", "/")
        files: list[GeneratedFile] = []

        def add(path: str, text: str) -> None:
            files.append(GeneratedFile(path, fit(text) if path.endswith(".java") else text))

        add(
            "pom.xml",
            env.get_template("pom.xml.j2").render(
                header_lines=header_lines(ir), version=package_version(ir), package=ir["package"]
            ),
        )
        add("README.md", env.get_template("README.md.j2").render(header_lines=header_lines(ir), ir=ir))
        for tpl, out in _RUNTIME:
            add(f"{main}/{out}", env.get_template(tpl).render(header=header, pkg=ROOT_PACKAGE))
        add(f"{main}/DecodeException.java", decode_exception(ir, ROOT_PACKAGE, header, n))
        add(f"{main}/Services.java", services(ir, ROOT_PACKAGE, header, n))
        add(f"{main}/Bridges.java", bridges(ir, ROOT_PACKAGE, header, n))
        me = MessageEmitter(ir, ROOT_PACKAGE, header, n)
        for e in ir["enums"]:
            name, text = me.enum_file(e)
            add(f"{main}/{name}", text)
        for msg in ir["messages"]:
            name, text = me.message_file(msg)
            add(f"{main}/{name}", text)
        name, text = me.registry_file()
        add(f"{main}/{name}", text)
        for path, text in generate_wire(ir, ROOT_PACKAGE, header, n):
            add(f"{main}/wire/{path}", text)
        for name in ("VectorsTest", "FuzzTest", "UsabilityTest"):
            text = env.get_template(f"test/{name}.java.j2").render(header=header, pkg=ROOT_PACKAGE)
            add(f"{test}/{name}.java", text)
        return sorted(files, key=lambda f: f.path)

    def check_names(self, ir: IR) -> list[NameClash]:
        return check_java_names(ir)


@register("java")
def _factory() -> JavaBackend:
    return JavaBackend()
