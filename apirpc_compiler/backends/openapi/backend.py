"""The `openapi` target: an OpenAPI 3.1 document of the REST surface (`generated/openapi/openapi.json`)."""

from __future__ import annotations

import json
from typing import Any

from ...ir.model import IR, Enum, Field, Message
from ...ir.naming import lower_camel
from ..base import Backend, GeneratedFile, NameClash, header_lines, register
from ..common import ErrorModel, RpcMethod, error_model, package_version, rpc_methods, type_index

OPENAPI_VERSION = "3.1.0"
FILE = "openapi.json"
NDJSON = "application/x-ndjson"  # a server stream: one ProtoJSON line per message, as grpc-gateway streams

_SCALAR: dict[str, dict[str, Any]] = {
    "bool": {"type": "boolean"},
    "string": {"type": "string"},
    "bytes": {"type": "string", "contentEncoding": "base64"},
    "int32": {"type": "integer", "format": "int32"},
    "sint32": {"type": "integer", "format": "int32"},
    "sfixed32": {"type": "integer", "format": "int32"},
    "uint32": {"type": "integer", "minimum": 0, "maximum": 4294967295},
    "fixed32": {"type": "integer", "minimum": 0, "maximum": 4294967295},
    # ProtoJSON writes 64-bit integers as strings and reads either.
    "int64": {"type": ["string", "integer"], "format": "int64"},
    "sint64": {"type": ["string", "integer"], "format": "int64"},
    "sfixed64": {"type": ["string", "integer"], "format": "int64"},
    "uint64": {"type": ["string", "integer"], "format": "uint64"},
    "fixed64": {"type": ["string", "integer"], "format": "uint64"},
    # "NaN", "Infinity" and "-Infinity" are strings in ProtoJSON.
    "float": {"type": ["number", "string"], "format": "float"},
    "double": {"type": ["number", "string"], "format": "double"},
}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": f"#/components/schemas/{name}"}


class _Doc:
    def __init__(self, ir: IR) -> None:
        self.ir = ir
        self.types = type_index(ir)
        self.errors: ErrorModel | None = error_model(ir)
        self.schemas: dict[str, Any] = {}

    # ---- schemas: every message and enum a REST operation reaches, as ProtoJSON ----

    def _type(self, f: Field) -> dict[str, Any]:
        kind, name = f["type"]["kind"], f["type"]["name"]
        if kind == "scalar":
            one: dict[str, Any] = dict(_SCALAR[name])
        else:
            one = _ref(name)
            (self._message if kind == "message" else self._enum)(name)
        return {"type": "array", "items": one} if f["label"] == "repeated" else one

    def _message(self, name: str) -> None:
        if name in self.schemas:
            return
        msg: Message = self.types.messages[name]
        properties: dict[str, Any] = {}
        self.schemas[name] = {
            "type": "object",
            "description": msg["doc"],
            "properties": properties,
            "additionalProperties": False,  # ProtoJSON readers refuse unknown fields
        }
        for f in msg["fields"]:
            prop = self._type(f)
            doc = f["doc"] + (f" One of the oneof `{f['oneof']}`." if f["oneof"] else "")
            if f["default"] is not None:
                doc += f" Absent means {f['default']}."
            if doc.strip():
                prop = {**prop, "description": doc.strip()}
            if f["deprecated"]:
                prop["deprecated"] = True
            properties[f["json_name"]] = prop

    def _enum(self, name: str) -> None:
        if name in self.schemas:
            return
        e: Enum = self.types.enums[name]
        schema: dict[str, Any] = {
            "type": "string",
            "description": e["doc"],
            "enum": [v["json_name"] for v in e["values"]],
        }
        if e["attributes"]:
            schema["x-enum-attributes"] = {v["json_name"]: v["attributes"] for v in e["values"]}
        self.schemas[name] = schema

    # ---- operations ----

    def _parameters(self, rpc: RpcMethod) -> list[dict[str, Any]]:
        route = rpc.route
        assert route is not None
        params: list[dict[str, Any]] = []
        for f in route.path_fields:
            params.append(
                {"name": f["name"], "in": "path", "required": True, "description": f["doc"], "schema": self._type(f)}
            )
        for q in route.query:
            leaf = self._leaf(rpc.request, q.path)
            params.append({"name": q.name, "in": "query", "description": q.doc, "schema": self._type(leaf)})
        return params

    def _leaf(self, msg: Message, path: tuple[str, ...]) -> Field:
        f = next(f for f in msg["fields"] if f["name"] == path[0])
        return f if len(path) == 1 else self._leaf(self.types.messages[f["type"]["name"]], path[1:])

    def _operation(self, rpc: RpcMethod) -> dict[str, Any]:
        route = rpc.route
        assert route is not None
        m, svc = rpc.method, rpc.service
        doc = m["doc"]
        op: dict[str, Any] = {
            "operationId": lower_camel([*svc["words"], *m["words"]]),
            "tags": [svc["name"]],
            "summary": doc.split(". ")[0].rstrip("."),
            "description": doc,
            "x-method-id": m["id"],
            "x-idempotent": m["idempotent"],
        }
        params = self._parameters(rpc)
        if params:
            op["parameters"] = params
        if route.body is not None:
            body_type = rpc.request["name"] if route.body_field is None else route.body_field["type"]["name"]
            self._message(body_type)
            op["requestBody"] = {"required": True, "content": {"application/json": {"schema": _ref(body_type)}}}
        self._message(rpc.response["name"])
        if m["streaming"] == "server":
            op["x-streaming"] = "server"
            content = {NDJSON: {"schema": self._stream_item(rpc.response["name"])}}
        else:
            content = {"application/json": {"schema": _ref(rpc.response["name"])}}
        op["responses"] = {"200": {"description": rpc.response["doc"] or "OK", "content": content}}
        if self.errors is not None:
            op["responses"]["default"] = {"$ref": "#/components/responses/Error"}
        return op

    def _stream_item(self, item: str) -> dict[str, Any]:
        """One NDJSON line of a server stream, as grpc-gateway writes it: a message, or the error that ends it."""
        result = {"type": "object", "required": ["result"], "properties": {"result": _ref(item)}}
        if self.errors is None:
            return result
        status = self.errors.status_message["name"]
        self._message(status)
        error = {"type": "object", "required": ["error"], "properties": {"error": _ref(status)}}
        return {
            "description": f'One line per {item} ({{"result": ...}}); a failure after the first line is a last '
            f'line {{"error": {status}}}.',
            "oneOf": [result, error],
        }

    def document(self) -> dict[str, Any]:
        ir = self.ir
        paths: dict[str, dict[str, Any]] = {}
        tags = []
        for svc in ir["services"]:
            served = [r for r in rpc_methods(ir, svc) if r.route is not None]
            if served:
                tags.append({"name": svc["name"], "description": svc["doc"]})
            for rpc in served:
                assert rpc.route is not None
                paths.setdefault(rpc.route.template, {})[rpc.route.verb.lower()] = self._operation(rpc)
        components: dict[str, Any] = {
            "securitySchemes": {
                "tenantToken": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": ir["auth"]["doc"] if ir["auth"] else "A tenant token.",
                }
            }
        }
        if self.errors is not None:
            status = self.errors.status_message["name"]
            self._message(status)
            table = "; ".join(
                f"{c.json_name}: HTTP {c.http_status}{', retryable' if c.retryable else ''}" for c in self.errors.codes
            )
            components["responses"] = {
                "Error": {
                    "description": f"An {status} (its code decides the HTTP status): {table}.",
                    "content": {"application/json": {"schema": _ref(status)}},
                }
            }
        components["schemas"] = dict(sorted(self.schemas.items()))
        return {
            "openapi": OPENAPI_VERSION,
            "x-generated": " ".join(header_lines(ir)),  # JSON has no comments: the header is an extension
            "info": {"title": f"{ir['package']} REST API", "version": package_version(ir), "description": ir["doc"]},
            "tags": tags,
            "security": [{"tenantToken": []}],
            "paths": paths,
            "components": components,
        }


def openapi_document(ir: IR) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every method with an HTTP rule (a server stream's 200 is NDJSON lines)."""
    return _Doc(ir).document()


def render_openapi(ir: IR) -> str:
    return json.dumps(openapi_document(ir), indent=2, ensure_ascii=False) + "\n"


class OpenApiBackend:
    name = "openapi"
    description = "OpenAPI 3.1 document of the REST surface (ProtoJSON bodies, tenant-token bearer auth)"

    def generate(self, ir: IR) -> list[GeneratedFile]:
        return [GeneratedFile(FILE, render_openapi(ir))]

    def check_names(self, ir: IR) -> list[NameClash]:
        return []


@register("openapi")
def _factory() -> Backend:
    return OpenApiBackend()
