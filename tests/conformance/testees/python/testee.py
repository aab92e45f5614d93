"""The Python conformance testee: the 9 ops of ../../PROTOCOL.md over a generated `clutchcall`.

Usage: testee.py PKG_DIR (the directory that holds the generated `clutchcall` package).
Reads framed requests from stdin until EOF and writes one framed response per request.
"""

from __future__ import annotations

import importlib
import json
import struct
import sys
import traceback
from collections.abc import Callable
from typing import Any

sys.path.insert(0, sys.argv[1])
sys.setrecursionlimit(10000)

from clutchcall import messages  # noqa: E402
from clutchcall.errors import DecodeError, EncodeError  # noqa: E402
from clutchcall.wire import _quic  # noqa: E402


class Unsupported(Exception):
    """Status 2: the op or the type is not known to this SDK."""


def message_type(name: str) -> type[messages.Message]:
    cls = getattr(messages, name, None)
    if not (isinstance(cls, type) and issubclass(cls, messages.Message)) or cls is messages.Message:
        raise Unsupported(f"no message {name!r}")
    return cls


def wire_struct(name: str) -> tuple[Any, dict[str, bool]]:
    """`protocol.Struct?arg=true&...` -> (the struct class, its args)."""
    qualified, _, query = name.partition("?")
    protocol, _, struct_name = qualified.partition(".")
    try:
        module = importlib.import_module(f"clutchcall.wire.{protocol}")
    except ImportError:
        raise Unsupported(f"no wire protocol {protocol!r}") from None
    cls = getattr(module, struct_name, None)
    if not isinstance(cls, type) or not hasattr(cls, "_decode_from"):
        raise Unsupported(f"no wire struct {qualified!r}")
    args = {}
    for pair in filter(None, query.split("&")):
        key, _, value = pair.partition("=")
        args[key] = value == "true"
    return cls, args


def item(value: Any) -> dict[str, Any]:
    return {"struct": type(value).__name__, "value": value.to_json()}


def parse_stream(name: str, chunk: int, data: bytes) -> list[dict[str, Any]]:
    protocol, _, stream = name.partition(".")
    try:
        module = importlib.import_module(f"clutchcall.wire.{protocol}")
    except ImportError:
        raise Unsupported(f"no wire protocol {protocol!r}") from None
    if stream == "datagram" and hasattr(module, "decode_datagram"):
        return [item(module.decode_datagram(data))]
    parser_cls = getattr(module, "".join(w.capitalize() for w in stream.split("_")) + "Parser", None)
    if parser_cls is None:
        raise Unsupported(f"no stream {name!r}")
    parser = parser_cls()
    out: list[Any] = []
    step = chunk or max(len(data), 1)
    for start in range(0, len(data), step):
        out += parser.feed(data[start : start + step])
    parser.close()
    # The control parser yields (type code, message) pairs; the others yield messages.
    return [item(x[1] if isinstance(x, tuple) else x) for x in out]


def dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def handle(op: int, name: str, payload: bytes) -> bytes:
    if op == 1:
        return message_type(name).decode(payload).encode()
    if op == 2:
        return message_type(name).decode(payload).to_json_str().encode()
    if op == 3:
        return message_type(name).from_json_str(payload).encode()
    if op in (4, 5, 6):
        cls, args = wire_struct(name)
        if op == 6:
            try:
                value = json.loads(payload)
            except ValueError as e:
                raise DecodeError("invalid_json", f"malformed JSON: {e}") from None
            try:
                return bytes(cls.from_json(value).encode(**args))
            except EncodeError as e:
                raise DecodeError("invalid_value", str(e)) from None
        decoded = cls.decode(payload, **args)
        return bytes(decoded.encode(**args)) if op == 4 else dumps(decoded.to_json())
    if op == 7:
        if len(payload) < 4:
            raise ValueError("op 7 needs a 4-byte chunk size")
        (chunk,) = struct.unpack_from("<I", payload)
        return dumps(parse_stream(name, chunk, payload[4:]))
    if op == 8:
        value, size = _quic.decode_varint(payload)
        if size != len(payload):
            raise DecodeError("trailing_bytes", f"{len(payload) - size} byte(s) after the varint")
        return str(value).encode()
    if op == 9:
        try:
            return _quic.encode_varint(int(payload.decode("ascii")))
        except EncodeError as e:
            raise DecodeError("invalid_value", str(e)) from None
    raise Unsupported(f"unknown op {op}")


def answer(request: bytes) -> bytes:
    try:
        op = request[0]
        (name_len,) = struct.unpack_from("<H", request, 1)
        name = request[3 : 3 + name_len].decode()
        payload = request[3 + name_len :]
        return b"\x00" + handle(op, name, payload)
    except DecodeError as e:
        return b"\x01" + e.reason.encode("ascii")
    except Unsupported as e:
        return b"\x02" + str(e).encode()
    except Exception:  # a bug in the SDK or the testee: report it, keep serving
        return b"\x03" + traceback.format_exc().encode()


def main(read: Callable[[int], bytes], write: Callable[[bytes], object], flush: Callable[[], object]) -> None:
    while True:
        header = read(4)
        if len(header) < 4:
            return
        (n,) = struct.unpack("<I", header)
        request = read(n)
        if len(request) < n:
            return
        response = answer(request)
        write(struct.pack("<I", len(response)) + response)
        flush()


if __name__ == "__main__":
    main(sys.stdin.buffer.read, sys.stdout.buffer.write, sys.stdout.buffer.flush)
