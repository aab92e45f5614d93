"""The `proto` target: one proto3 file, `generated/proto/clutchcall.proto`.

It is the IDL spelled as protobuf, so that the official runtimes (and buf, grpc tooling) can
read ClutchCall DTOs; the golden DTO vectors are made with it and upb.
"""

from __future__ import annotations

from ...ir.model import IR
from ..base import Backend, GeneratedFile, NameClash, register
from .emit import render_proto
from .namer import check_proto_names

PROTO_FILE = "clutchcall.proto"


class ProtoBackend:
    name = "proto"
    description = "proto3 schema of every enum, message and service (package clutchcall.v1)"

    def generate(self, ir: IR) -> list[GeneratedFile]:
        return [GeneratedFile(PROTO_FILE, render_proto(ir))]

    def check_names(self, ir: IR) -> list[NameClash]:
        return check_proto_names(ir)


@register("proto")
def _factory() -> Backend:
    return ProtoBackend()
