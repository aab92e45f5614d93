"""Protobuf spellings of IR names, and the collisions protoc would reject.

Messages, enums and fields keep their IDL names (already PascalCase / snake_case). Enum values
use the IR's `json_name` (UPPER_SNAKE prefixed with the enum, buf's ENUM_VALUE_PREFIX), which
live in the package scope next to the types, as in C++. Services get buf's `Service` suffix.
"""

from __future__ import annotations

from ...ir.model import IR, Enum, Message, Method, Service
from ...ir.naming import pascal, proto_json_name, upper_snake
from ..base import NameClash
from ..common import pointer


def service_name(service: Service) -> str:
    base = pascal(service["words"])
    return base if base.endswith("Service") else base + "Service"


def rpc_name(method: Method) -> str:
    return pascal(method["words"])


def enum_value_name(enum: Enum, value_name: str) -> str:
    """The protobuf name of an enum value given by its IDL name (used for reserved names)."""
    for v in enum["values"]:
        if v["name"] == value_name:
            return v["json_name"]
    return upper_snake(enum["words"]) + "_" + value_name.upper()


def _enum_value_key(name: str, enum: Enum) -> str:
    # protoc compares values with the enum prefix stripped, ignoring case and underscores
    # ("... has the same name as ... if you ignore case and strip out the enum name prefix").
    prefix = upper_snake(enum["words"]) + "_"
    stripped = name[len(prefix) :] if name.startswith(prefix) else name
    return stripped.replace("_", "").lower()


def _check_enum(enum: Enum, out: list[NameClash]) -> None:
    seen: dict[str, str] = {}
    for v in enum["values"]:
        key = _enum_value_key(v["json_name"], enum)
        if key in seen:
            out.append(
                NameClash(
                    pointer("enums", enum["name"], "values", v["name"]),
                    f"enum value {v['json_name']} collides with {seen[key]} in protobuf "
                    "(protoc compares values without the enum prefix, ignoring case and underscores)",
                    "rename one of the two values",
                )
            )
        else:
            seen[key] = v["json_name"]


def _check_message(msg: Message, out: list[NameClash]) -> None:
    base = ("messages", msg["name"])
    fields = {f["name"] for f in msg["fields"]}
    for o in msg["oneofs"]:
        if o["name"] in fields:
            out.append(
                NameClash(
                    pointer(*base, "oneofs", o["name"]),
                    f"oneof {o['name']} has the same name as a field of {msg['name']}; protobuf rejects it",
                    "rename the oneof or the field",
                )
            )
    # protoc (proto3) rejects two fields whose JSON names are equal, both for the default
    # lowerCamel names and for the effective ones (custom json_name).
    for kind, name_of in (
        ("default JSON name", lambda f: proto_json_name(f["name"])),
        ("JSON name", lambda f: f["json_name"]),
    ):
        seen: dict[str, str] = {}
        for f in msg["fields"]:
            jn = name_of(f)
            if jn in seen:
                out.append(
                    NameClash(
                        pointer(*base, "fields", f["name"]),
                        f"field {f['name']} of {msg['name']} has the {kind} {jn!r}, like field {seen[jn]}",
                        "rename the field or give it a distinct json_name",
                    )
                )
            else:
                seen[jn] = f["name"]


def check_proto_names(ir: IR) -> list[NameClash]:
    out: list[NameClash] = []
    # One package scope: messages, enums, enum values and services.
    scope: dict[str, str] = {}

    def claim(name: str, what: str, pointer: str) -> None:
        if name in scope:
            out.append(
                NameClash(
                    pointer,
                    f"{what} is spelled {name} in protobuf, which is already {scope[name]} in package {ir['package']}",
                    "rename one of them",
                )
            )
        else:
            scope[name] = what

    for msg in ir["messages"]:
        claim(msg["name"], f"message {msg['name']}", pointer("messages", msg["name"]))
    for enum in ir["enums"]:
        claim(enum["name"], f"enum {enum['name']}", pointer("enums", enum["name"]))
    for enum in ir["enums"]:
        for v in enum["values"]:
            claim(
                v["json_name"],
                f"value {v['name']} of enum {enum['name']}",
                pointer("enums", enum["name"], "values", v["name"]),
            )
        _check_enum(enum, out)
    for svc in ir["services"]:
        claim(service_name(svc), f"service {svc['name']}", pointer("services", svc["name"]))
        rpcs: dict[str, str] = {}
        for m in svc["methods"]:
            rn = rpc_name(m)
            if rn in rpcs:
                out.append(
                    NameClash(
                        pointer("services", svc["name"], "methods", m["name"]),
                        f"method {m['name']} is spelled rpc {rn} in protobuf, like method {rpcs[rn]}",
                        "rename one of the two methods",
                    )
                )
            else:
                rpcs[rn] = m["name"]
    for msg in ir["messages"]:
        _check_message(msg, out)
    return out
