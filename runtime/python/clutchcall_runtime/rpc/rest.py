"""REST per each method's google.api.http rule, both directions: a request DTO to verb + target + body and
back, a route table matching paths, and ErrorStatus bodies. Bodies and responses are ProtoJSON.

A server-streaming method answers 200 with `application/x-ndjson`, as grpc-gateway does: one line per
message, `{"result": <message>}`, and an error after the headers went out as a last line
`{"error": <ErrorStatus>}`. A line is at most `MAX_NDJSON_LINE` bytes.

The rules come parsed from the generated descriptors (`HttpRule.segments`, `.query`, `.body_json`),
which the compiler derives once from the IR; nothing here reads a path template's text.
"""

from __future__ import annotations

import json
import math
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode

from clutchcall import ErrorCode, ErrorStatus, Message
from clutchcall.errors import DecodeError
from clutchcall.services import HttpRule, MethodDescriptor

from .errors import ApiError, invalid_request

JSON = "application/json"
NDJSON = "application/x-ndjson"
MAX_NDJSON_LINE = 16 * 1024 * 1024 + 64  # a message as large as the envelope allows, in its wrapper


@dataclass(slots=True)
class HttpRequest:
    """One HTTP request as a server adapter hands it over (header names lower-case)."""

    method: str
    target: str  # path and query, as sent
    headers: list[tuple[str, str]]
    body: bytes
    transport: str  # "h1" or "h3"
    peer: str = ""

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k == name), None)


@dataclass(slots=True)
class HttpResponse:
    status: int
    body: bytes = b""
    content_type: str = JSON
    headers: list[tuple[str, str]] = field(default_factory=list)
    stream: AsyncIterator[bytes] | None = None
    """A body of unknown length sent as it is produced (NDJSON lines); `body` is then unused. Closing it
    (`aclose`) stops the producer: the server adapters do when the client goes away."""


def rule_of(method: MethodDescriptor) -> HttpRule:
    if method.http is None:
        raise ApiError(
            ErrorCode.UNIMPLEMENTED, f"{method.service}.{method.name} has no HTTP route; use the envelope transport"
        )
    return method.http


# ---- client side ----


def _text(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _pop_path(j: dict[str, Any], json_path: Sequence[str]) -> Any:
    node: Any = j
    for key in json_path[:-1]:
        node = node.get(key) if isinstance(node, dict) else None
    return node.pop(json_path[-1], None) if isinstance(node, dict) else None


def encode_request(method: MethodDescriptor, request: Message) -> tuple[str, str, bytes | None]:
    """The verb, target (path and query) and JSON body that carry `request` to `method`."""
    rule = rule_of(method)
    j = request.to_json()
    parts: list[str] = []
    for seg in rule.segments:
        if not seg.variable:
            parts.append(seg.text)
            continue
        value = j.pop(seg.text, None)
        if value in (None, ""):
            raise ApiError(ErrorCode.INVALID_ARGUMENT, "is bound in the URL path and must be set", field=seg.text)
        parts.append(quote(_text(value), safe=""))
    path = "/" + "/".join(parts) + (f":{rule.verb}" if rule.verb else "")
    body: bytes | None = None
    if rule.body == "*":
        body = json.dumps(j, separators=(",", ":"), ensure_ascii=False).encode()
    else:
        if rule.body_json is not None:
            body = json.dumps(j.pop(rule.body_json, {}), separators=(",", ":"), ensure_ascii=False).encode()
        pairs: list[tuple[str, str]] = []
        for param in rule.query:
            value = _pop_path(j, param.json_path)
            if value is None:
                continue
            pairs += [(param.name, _text(v)) for v in (value if isinstance(value, list) else [value])]
        if pairs:
            path += "?" + urlencode(pairs)
    return rule.method, path, body


def decode_response(method: MethodDescriptor, status: int, body: bytes) -> Message:
    """A 2xx body as the method's response, anything else as the ApiError it carries."""
    if 200 <= status < 300:
        try:
            return method.response_type.from_json_str(body or b"{}", ignore_unknown_fields=True)
        except DecodeError as exc:
            raise ApiError(ErrorCode.INTERNAL, f"the server's response does not decode: {exc}") from None
    raise error_from_http(status, body)


class NdjsonLines:
    """Splits a streamed NDJSON body into lines; a line over `max_line` bytes is an error, not a buffer."""

    def __init__(self, max_line: int = MAX_NDJSON_LINE) -> None:
        self.max_line = max_line
        self._partial = bytearray()

    def feed(self, data: bytes) -> list[bytes]:
        self._partial += data
        *lines, rest = self._partial.split(b"\n")
        if len(rest) > self.max_line or any(len(line) > self.max_line for line in lines):
            raise ApiError(ErrorCode.INTERNAL, f"the server sent an NDJSON line over {self.max_line} bytes")
        self._partial = bytearray(rest)
        return [bytes(line) for line in lines if line.strip()]

    def close(self) -> None:
        if self._partial.strip():
            raise ApiError(ErrorCode.UNAVAILABLE, "the stream ended inside an NDJSON line")


def decode_stream_line(method: MethodDescriptor, line: bytes) -> Message:
    """One NDJSON line of a server stream: its message, or the ApiError its `error` carries."""
    try:
        item = json.loads(line)
    except (ValueError, RecursionError) as exc:
        raise ApiError(ErrorCode.INTERNAL, f"the server sent a line that is not JSON: {exc}") from None
    if not isinstance(item, dict) or not ("result" in item) ^ ("error" in item):
        raise ApiError(ErrorCode.INTERNAL, 'a stream line must hold exactly one of "result" and "error"')
    try:
        if "result" in item:
            return method.response_type.from_json(item["result"], ignore_unknown_fields=True)
        status = ErrorStatus.from_json(item["error"], ignore_unknown_fields=True)
    except DecodeError as exc:
        raise ApiError(ErrorCode.INTERNAL, f"the server's stream line does not decode: {exc}") from None
    raise ApiError.from_status(status)


def ndjson_result(message: Message) -> bytes:
    return b'{"result":' + message.to_json_str().encode() + b"}\n"


def ndjson_error(err: ApiError) -> bytes:
    return b'{"error":' + err.to_status().to_json_str().encode() + b"}\n"


def error_from_http(status: int, body: bytes) -> ApiError:
    try:
        return ApiError.from_status(ErrorStatus.from_json_str(body, ignore_unknown_fields=True))
    except DecodeError:
        # Not an ErrorStatus (a proxy's page): the code the IDL maps to this HTTP status.
        code = next((c for c in ErrorCode if c and c.http_status == status), ErrorCode.INTERNAL)
        return ApiError(code, f"HTTP {status}: {body[:200].decode(errors='replace')}")


# ---- server side ----


def error_response(err: ApiError) -> HttpResponse:
    headers = []
    if err.retry_after_ms is not None:
        headers.append(("retry-after", str(max(1, math.ceil(err.retry_after_ms / 1000)))))
    return HttpResponse(err.http_status, err.to_status().to_json_str().encode(), JSON, headers)


def ok_response(message: Message) -> HttpResponse:
    return HttpResponse(200, message.to_json_str().encode())


@dataclass(frozen=True, slots=True)
class _Compiled:
    method: MethodDescriptor
    rule: HttpRule


class Router:
    """REST method + path -> method descriptor and the path variables' values (by ProtoJSON name)."""

    def __init__(self, methods: Iterable[MethodDescriptor]) -> None:
        self._routes = [_Compiled(m, m.http) for m in methods if m.http is not None]

    def match(self, verb: str, path: str) -> tuple[MethodDescriptor, dict[str, str]] | None:
        """None when no route has this path; ApiError UNIMPLEMENTED when the path exists for other verbs."""
        if not path.startswith("/"):
            return None
        parts = path[1:].split("/")
        verbs: list[str] = []
        for route in self._routes:
            bound = _match(route.rule, parts)
            if bound is None:
                continue
            if route.rule.method == verb:
                return route.method, bound
            verbs.append(route.rule.method)
        if verbs:
            raise ApiError(ErrorCode.UNIMPLEMENTED, f"{verb} {path} is not routed; this path takes {', '.join(verbs)}")
        return None


def _match(rule: HttpRule, parts: list[str]) -> dict[str, str] | None:
    if len(parts) != len(rule.segments):
        return None
    last = parts[-1]
    if rule.verb is not None:
        head, sep, verb = last.rpartition(":")
        if not sep or verb != rule.verb:
            return None
        parts = [*parts[:-1], head]
    elif ":" in last and not rule.segments[-1].variable:
        return None
    bound: dict[str, str] = {}
    for seg, part in zip(rule.segments, parts, strict=True):
        if seg.variable:
            value = unquote(part)
            if not value:
                return None
            bound[seg.text] = value
        elif seg.text != part:
            return None
    return bound


def _query_value(kind: str, field_path: str, text: str) -> Any:
    if kind == "bool":
        if text not in ("true", "false"):
            raise ApiError(ErrorCode.INVALID_ARGUMENT, f"{text!r} is not true or false", field=field_path)
        return text == "true"
    if kind == "enum" and text.lstrip("-").isdigit():
        return int(text)
    return text  # ProtoJSON reads numbers from strings too


def decode_request(method: MethodDescriptor, bound: dict[str, str], query: str, body: bytes) -> Message:
    """The request DTO from path variables, query string and JSON body; ApiError INVALID_ARGUMENT naming the field."""
    rule = rule_of(method)
    j: dict[str, Any] = {}
    if rule.body is not None:
        try:
            value = json.loads(body or b"{}")
        except (ValueError, RecursionError) as exc:
            raise ApiError(
                ErrorCode.INVALID_ARGUMENT, f"the body is not JSON: {exc}", field=rule.body_json or ""
            ) from None
        if not isinstance(value, dict):
            raise ApiError(ErrorCode.INVALID_ARGUMENT, "the body must be a JSON object", field=rule.body_json or "")
        if rule.body_json is None:
            j = value
        else:
            j[rule.body_json] = value
    elif body:
        raise ApiError(ErrorCode.INVALID_ARGUMENT, f"{rule.method} {rule.path} takes no body")
    params = {p.name: p for p in rule.query}
    for name, text in parse_qsl(query, keep_blank_values=True):
        param = params.get(name)
        if param is None:
            raise ApiError(ErrorCode.INVALID_ARGUMENT, "unknown query parameter", field=name)
        node = j
        for key in param.json_path[:-1]:
            node = node.setdefault(key, {})
        leaf = param.json_path[-1]
        field_path = ".".join(param.json_path)
        if param.repeated:
            items = node.setdefault(leaf, [])
            items.append(_query_value(param.kind, f"{field_path}[{len(items)}]", text))
        elif leaf in node:
            raise ApiError(ErrorCode.INVALID_ARGUMENT, "given more than once", field=field_path)
        else:
            node[leaf] = _query_value(param.kind, field_path, text)
    j.update(bound)  # path variables win over the body, as in google.api.http
    try:
        return method.request_type.from_json(j)
    except DecodeError as exc:
        raise invalid_request(exc) from None
