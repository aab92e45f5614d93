"""The intermediate representation: the one input of every backend.

The IR is plain JSON (what `apirpc-compiler ir` prints and what a plugin reads on stdin),
typed here with TypedDicts so that builtin backends get mypy checking for free. Everything a
backend needs is resolved and explicit: numbers are ints, names come split into `words`,
wire types and ProtoJSON names are computed once here instead of in every backend.

Invariants (established by the front end's validation, relied on by every backend):
- every type reference resolves; `kind` says whether it is a scalar, enum or message;
- numbers and names are unique where the IDL requires it;
- lists are in IDL declaration order, which is the generation order.
"""

from __future__ import annotations

from typing import Literal, NotRequired, TypedDict, get_args

# 2: the codec plan (`plan`, ir/plan.py) joined the IR.
IR_FORMAT = "apirpc-ir/2"

ScalarName = Literal[
    "bool",
    "int32",
    "int64",
    "uint32",
    "uint64",
    "sint32",
    "sint64",
    "fixed32",
    "fixed64",
    "sfixed32",
    "sfixed64",
    "float",
    "double",
    "string",
    "bytes",
]
SCALARS: frozenset[str] = frozenset(get_args(ScalarName))
Label = Literal["implicit", "optional", "repeated"]
JsonValue = None | bool | int | float | str | list["JsonValue"] | dict[str, "JsonValue"]


class TypeRef(TypedDict):
    kind: Literal["scalar", "enum", "message"]
    name: str  # scalar name, or the enum's or message's IDL name


class Field(TypedDict):
    name: str
    words: list[str]
    number: int
    doc: str
    type: TypeRef
    label: Label
    oneof: str | None
    json_name: str
    # protobuf wire type of one element: 0 varint, 1 I64, 2 LEN, 5 I32.
    wire_type: int
    # True for repeated numeric scalars and enums (proto3 packs them).
    packed: bool
    # Value a reader sees when an optional field is absent (enum defaults are value names).
    default: JsonValue
    deprecated: bool


class Oneof(TypedDict):
    name: str
    words: list[str]
    doc: str
    fields: list[str]


class Reserved(TypedDict):
    numbers: list[list[int]]  # inclusive [lo, hi] ranges
    names: list[str]


class Message(TypedDict):
    name: str
    words: list[str]
    doc: str
    fields: list[Field]
    oneofs: list[Oneof]
    reserved: Reserved


class EnumValue(TypedDict):
    name: str
    words: list[str]
    number: int
    doc: str
    json_name: str  # the protobuf / ProtoJSON name, e.g. CALL_STATUS_IN_PROGRESS
    attributes: dict[str, JsonValue]


class EnumAttribute(TypedDict):
    name: str
    words: list[str]
    type: ScalarName
    doc: str


class Transitions(TypedDict):
    initial: list[str]
    terminal: list[str]
    edges: dict[str, list[str]]  # every value of the graph is a key, terminal ones map to []


class Enum(TypedDict):
    name: str
    words: list[str]
    doc: str
    values: list[EnumValue]
    attributes: list[EnumAttribute]
    reserved: Reserved
    transitions: Transitions | None


class HttpRule(TypedDict):
    method: str
    path: str
    path_params: list[str]
    body: str | None  # "*", a field name, or None


class Method(TypedDict):
    name: str
    words: list[str]
    id: int
    doc: str
    request: str
    response: str
    idempotent: bool
    streaming: Literal["none", "client", "server", "bidi"]
    http: HttpRule | None


class Service(TypedDict):
    name: str
    words: list[str]
    doc: str
    legacy: bool
    methods: list[Method]
    reserved_ids: list[list[int]]
    reserved_names: list[str]


class TrackKind(TypedDict):
    name: str
    doc: str
    delivery: list[str]
    priority: Literal["per_track", "per_object"]


class BridgeTrack(TypedDict):
    name: str
    words: list[str]
    kind: str
    doc: str


class BridgeRole(TypedDict):
    name: str
    words: list[str]
    doc: str
    publish: list[str]
    subscribe: list[str]


class Bridge(TypedDict):
    name: str
    words: list[str]
    doc: str
    namespace: str
    capability: str
    tracks: list[BridgeTrack]
    roles: list[BridgeRole]


class Auth(TypedDict):
    doc: str
    claims: str
    scheme: str


class DecodeErrorReason(TypedDict):
    name: str
    words: list[str]
    doc: str


# ---- wire protocols (see docs/idl-format.md, "Wire protocols") ----

WireScalar = Literal["varint", "u8", "u16", "u32", "u64"]


class WireLength(TypedDict):
    # "varint": a QUIC varint prefix; "rest": to the end of the enclosing frame;
    # "field": the value of an earlier field; "fixed": exactly `size` bytes/elements.
    kind: Literal["varint", "rest", "field", "fixed"]
    field: str | None
    size: int | None


class WireCond(TypedDict):
    # "flag": a variant flag or struct arg is `value` (bool); others test an earlier int field.
    op: Literal["flag", "eq", "ne", "in", "not_in", "even", "odd"]
    name: str  # the flag or field name
    value: JsonValue


class WireType(TypedDict):
    type: Literal["varint", "u8", "u16", "u32", "u64", "bytes", "string", "list", "struct"]
    # bytes, string: byte length; list: element count. A framed list has kind "rest": its
    # elements are read until the frame ends.
    length: WireLength | None
    element: WireType | None  # list
    struct: str | None  # struct
    # struct, list: a byte-length prefix (today always kind "varint") around the value, a
    # sub-frame that the content must fill exactly; reads inside stop at its end.
    frame: WireLength | None
    max_bytes: int | None  # frame: the largest byte length accepted (above: too_large)
    max: int | None  # ints: max value; bytes/string: max bytes; list: max elements
    min: int | None  # ints: min value; list: min elements (below: invalid_value)
    const: int | None
    codes: str | None  # a code set name
    closed: bool  # codes is closed: values outside it are invalid
    mask: int | None


class WireField(TypedDict):
    name: str
    words: list[str]
    doc: str
    type: WireType
    when: WireCond | None


class WireVariant(TypedDict):
    code: int
    flags: dict[str, bool]


class WireStruct(TypedDict):
    name: str
    words: list[str]
    doc: str
    args: list[str]
    flags: list[str]  # union of variant flag names, sorted
    variants: list[WireVariant]
    fields: list[WireField]


class WireCode(TypedDict):
    name: str
    words: list[str]
    value: int
    doc: str
    struct: str | None


class WireCodeSet(TypedDict):
    name: str
    words: list[str]
    doc: str
    closed: bool
    values: list[WireCode]


class WireStreamHeader(TypedDict):
    header: str
    object: str
    args: dict[str, str]  # object arg -> header flag
    codes: list[int]  # the stream type codes (the header's variant codes, or its first field's const)


class WireStream(TypedDict):
    name: str
    words: list[str]
    doc: str
    kind: Literal["sequence", "framed", "header_objects", "datagram"]
    message: str | None  # sequence, datagram
    type: WireScalar | None  # framed
    length: WireScalar | None  # framed
    dispatch: str | None  # framed: the code set
    max: int | None
    headers: list[WireStreamHeader]  # header_objects


class WireAuth(TypedDict):
    """How a connection presents the tenant token (envelope family): one request envelope under `method_id`."""

    doc: str
    method_id: int
    token: Literal["utf8_payload"]  # the envelope's payload is the token's UTF-8 bytes


class WireProtocol(TypedDict):
    name: str
    words: list[str]
    doc: str
    family: str
    version: int
    alpn: str | None
    auth: WireAuth | None
    codes: list[WireCodeSet]
    structs: list[WireStruct]
    streams: list[WireStream]


class IR(TypedDict):
    format: str
    package: str
    package_words: list[str]
    source_sha256: str
    source_name: str
    doc: str
    enums: list[Enum]
    messages: list[Message]
    services: list[Service]
    track_kinds: list[TrackKind]
    bridges: list[Bridge]
    auth: Auth | None
    decode_errors: list[DecodeErrorReason]
    wire: list[WireProtocol]
    # The codec plan of every wire protocol (ir/plan.py, docs/plan.md), added by the pass
    # `plan.lower_plan` after the IR is built.
    plan: NotRequired[JsonValue]
