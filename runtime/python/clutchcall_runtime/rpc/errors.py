"""`ApiError`: the one exception for an ErrorStatus, on both sides of every transport.

Its HTTP status and `retryable` come from the IDL's ErrorCode attributes (generated into
`clutchcall.ErrorCode`), so the client's retry decision and the server's HTTP status are never a
hand-kept table.
"""

from __future__ import annotations

from clutchcall import ErrorCode, ErrorStatus
from clutchcall.errors import DecodeError


class ApiError(Exception):
    """An ErrorStatus as an exception: `code`, `message`, `field` (ProtoJSON path at fault), `retry_after_ms`."""

    def __init__(
        self, code: ErrorCode | int, message: str = "", *, field: str = "", retry_after_ms: int | None = None
    ) -> None:
        self.code: ErrorCode | int = ErrorCode.from_number(int(code))
        self.message = message
        self.field = field
        self.retry_after_ms = retry_after_ms
        super().__init__(self._text())

    def _text(self) -> str:
        name = self.code.name.lower() if isinstance(self.code, ErrorCode) else f"error {self.code}"
        where = f" (field {self.field})" if self.field else ""
        return f"{name}: {self.message}{where}" if self.message else f"{name}{where}"

    @property
    def http_status(self) -> int:
        """The HTTP status the IDL maps this code to (500 for a code this SDK does not know)."""
        return self.code.http_status if isinstance(self.code, ErrorCode) else 500

    @property
    def retryable(self) -> bool:
        """Whether the same request may succeed if retried (the IDL's `retryable`; False for unknown codes)."""
        return self.code.retryable if isinstance(self.code, ErrorCode) else False

    def to_status(self) -> ErrorStatus:
        return ErrorStatus(code=self.code, message=self.message, field=self.field, retry_after_ms=self.retry_after_ms)

    @classmethod
    def from_status(cls, status: ErrorStatus) -> ApiError:
        return cls(status.code, status.message, field=status.field, retry_after_ms=status.retry_after_ms)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ApiError):
            return NotImplemented
        return self.to_status() == other.to_status()

    __hash__ = Exception.__hash__


def invalid_request(exc: DecodeError) -> ApiError:
    """A request that does not decode: INVALID_ARGUMENT naming the ProtoJSON path at fault when the decoder had one."""
    return ApiError(ErrorCode.INVALID_ARGUMENT, str(exc), field=exc.json_path)
