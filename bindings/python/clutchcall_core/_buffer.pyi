# Shared aliases of the stubs (stub-only module). Any C-contiguous object exporting the buffer
# protocol is accepted: bytes, bytearray, memoryview, array.array, NumPy arrays.
from typing import TypeVar

from typing_extensions import Buffer

ReadableBuffer = Buffer
W = TypeVar("W", bound=Buffer)
