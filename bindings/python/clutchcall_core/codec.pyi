"""The generated C++ codecs (MoQT draft-14 framing, the RPC envelope, the DTOs) through the
package's by-name registry. Values cross as JSON-compatible Python objects (the vectors' form:
64-bit integers beyond 2**53 as strings, bytes as hex). Errors: ValueError starting with
"codec: <reason>" (the IDL's wire.errors: truncated, invalid_value, unknown_type, ...).

Threads: stateless (each call parses or builds its own value): safe from any number of threads."""

from collections.abc import Sequence
from typing import Any

from clutchcall_core._buffer import ReadableBuffer

def parse_stream(stream: str, data: ReadableBuffer, chunk: int = 0) -> list[dict[str, Any]]:
    """Parse a whole wire stream fed in `chunk`-byte pieces (0: at once): [{'struct', 'value'}]."""

def decode_struct(name: str, data: ReadableBuffer, args: Sequence[bool] = ()) -> Any: ...
def encode_struct(name: str, value: Any, args: Sequence[bool] = ()) -> bytes: ...
def message_to_json(name: str, data: ReadableBuffer) -> str: ...
def message_from_json(name: str, text: str) -> bytes: ...
def message_names() -> list[str]: ...
