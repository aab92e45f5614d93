"""Typed exceptions of the MoQT runtime: each names something a caller can act on."""

from __future__ import annotations


class MoqtError(Exception):
    """Base of every error this package raises."""


class ConnectError(MoqtError):
    """The connection could not be made (address, TLS, handshake); retrying may help."""


class AuthenticationError(MoqtError):
    """The peer refused the token: retrying with the same token cannot help."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(f"token refused (code {code:#x}): {reason}")
        self.code = code
        self.reason = reason


class SessionClosedError(MoqtError):
    """The session ended; `code` is the draft's session termination code, `reason` the peer's text."""

    def __init__(self, code: int, reason: str, *, by_peer: bool) -> None:
        super().__init__(f"session closed by {'peer' if by_peer else 'us'} (code {code:#x}): {reason}")
        self.code = code
        self.reason = reason
        self.by_peer = by_peer


class RequestError(MoqtError):
    """A request (SUBSCRIBE, PUBLISH, FETCH, ...) was answered with an error message."""

    def __init__(self, message_type: str, code: int, reason: str) -> None:
        super().__init__(f"{message_type} refused (code {code:#x}): {reason}")
        self.message_type = message_type
        self.code = code
        self.reason = reason


class NotAuthorizedError(RequestError):
    """A request was refused because the token does not grant it (the request's UNAUTHORIZED code)."""


class ProtocolViolation(MoqtError):
    """Raised inside the session when the peer breaks the draft: the session closes with `code`.

    `message_type`, `request_id` and `offset` say where, for the log line.
    """

    def __init__(
        self,
        code: int,
        reason: str,
        *,
        message_type: str | None = None,
        request_id: int | None = None,
        offset: int | None = None,
    ) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.message_type = message_type
        self.request_id = request_id
        self.offset = offset
