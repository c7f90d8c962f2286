"""The exception classes, one per error category of the C core.

The C layer builds every exception through :func:`_from_core`, which picks
the class from the category; all carry the same fields.
"""
from __future__ import annotations

import builtins
from typing import Any, Dict, List, Optional, Type

from . import _core

__all__ = [
    "SMTPError", "ConnectError", "DNSError", "TLSError", "AuthError", "SenderRefused",
    "RecipientsRefused", "MessageTooLarge", "RelayDenied", "TimeoutError", "ProtocolError",
    "LocalError", "UsageError",
]


class SMTPError(Exception):
    """Base class of every smtpcore failure.

    Attributes:
        category: ``"connect"``, ``"dns"``, ``"tls"``, ``"auth"``, ``"sender"``, ``"recipient"``,
            ``"size"``, ``"relay"``, ``"timeout"``, ``"protocol"``, ``"local"`` or ``"usage"``.
        code: the SMTP reply code (0 if the server did not answer).
        enhanced_code: the RFC 3463 enhanced status code (``"5.7.8"``) or None.
        server_message: the server's reply text (lines joined by ``"\\n"``) or None.
        hint: plain-language advice on what to check, or None.
        transcript: the protocol lines of the failed operation (passwords redacted) or None.
        message: what went wrong, in smtpcore's words.

    ``str(e)`` is the message followed by the hint.
    """

    category: str = "local"
    message: str
    code: int
    enhanced_code: Optional[str]
    server_message: Optional[str]
    server_bytes: Optional[bytes]
    hint: Optional[str]
    transcript: Optional[List[str]]
    result: Any

    def __init__(self, message: str = "", *, category: Optional[str] = None, code: int = 0,
                 enhanced_code: Optional[str] = None, server_message: Optional[str] = None,
                 server_bytes: Optional[bytes] = None, hint: Optional[str] = None,
                 transcript: Optional[List[str]] = None, result: Any = None) -> None:
        super().__init__(message)
        _set_fields(self, message, category, code, enhanced_code, server_message, server_bytes, hint,
                    transcript, result)

    def __str__(self) -> str:
        return _with_hint(self.message, self.hint)

    def __repr__(self) -> str:
        return "%s(%r, category=%r, code=%r, enhanced_code=%r)" % (
            type(self).__name__, self.message, self.category, self.code, self.enhanced_code)


def _set_fields(exc: BaseException, message: str, category: Optional[str], code: int,
                enhanced_code: Optional[str], server_message: Optional[str], server_bytes: Optional[bytes],
                hint: Optional[str], transcript: Optional[List[str]], result: Any) -> None:
    category = category or str(getattr(type(exc), "category", "local"))
    exc.message = message  # type: ignore[attr-defined]
    exc.category = category  # type: ignore[attr-defined]
    exc.code = code  # type: ignore[attr-defined]
    exc.enhanced_code = enhanced_code  # type: ignore[attr-defined]
    exc.server_message = server_message  # type: ignore[attr-defined]
    if server_bytes is None and server_message is not None:
        server_bytes = server_message.encode("utf-8", "surrogateescape")
    exc.server_bytes = server_bytes  # type: ignore[attr-defined]
    if hint is None:
        hint = _core.hint_for(category, code, enhanced_code)
    exc.hint = hint  # type: ignore[attr-defined]
    exc.transcript = transcript  # type: ignore[attr-defined]
    if result is not None or not hasattr(exc, "result"):
        exc.result = result  # type: ignore[attr-defined]


def _with_hint(message: str, hint: Optional[str]) -> str:
    return "%s\nhint: %s" % (message, hint) if hint else message


class ConnectError(SMTPError):
    """The TCP connection was refused, could not be made, or broke; or the server closed the session."""
    category = "connect"


class DNSError(ConnectError):
    """The host name did not resolve (a kind of ConnectError)."""
    category = "dns"


class TLSError(SMTPError):
    """TLS failed: handshake, certificate, host name, or STARTTLS missing when required."""
    category = "tls"


class AuthError(SMTPError):
    """Authentication was refused (for example 535 5.7.8) or impossible."""
    category = "auth"


class SenderRefused(SMTPError):
    """The server refused the sender (MAIL FROM)."""
    category = "sender"


class RecipientsRefused(SMTPError):
    """The recipients were refused; ``result`` (a :class:`SendResult`) has one status per recipient."""
    category = "recipient"
    result: Any = None


class RelayDenied(RecipientsRefused):
    """The server will not relay to these recipients (log in first, or use the right server)."""
    category = "relay"


class MessageTooLarge(SMTPError):
    """The message is larger than the server accepts. ``size`` is the message's size in bytes and
    ``max_size`` the server's announced limit, when known."""
    category = "size"
    size: Optional[int] = None
    max_size: Optional[int] = None


class TimeoutError(SMTPError, builtins.TimeoutError):
    """No connection or no reply within the configured timeout (also a builtins.TimeoutError)."""
    category = "timeout"


class ProtocolError(SMTPError):
    """The server broke the protocol, closed early, or refused a command (for example DATA)."""
    category = "protocol"


class LocalError(SMTPError):
    """A local failure: memory, a file that could not be read, a message source that failed."""
    category = "local"


class UsageError(SMTPError, ValueError):
    """Bad input from the caller (an invalid address, CR/LF in a header, an unknown option); nothing
    was sent. Also a ValueError."""
    category = "usage"


CLASSES: Dict[str, Type[SMTPError]] = {
    cls.category: cls for cls in (ConnectError, DNSError, TLSError, AuthError, SenderRefused,
                                  RecipientsRefused, MessageTooLarge, RelayDenied, TimeoutError,
                                  ProtocolError, LocalError, UsageError)
}


def _from_core(*, category: str, message: str, code: int, enhanced_code: Optional[str],
               server_message: Optional[str], server_bytes: Optional[bytes], hint: Optional[str],
               transcript: Optional[List[str]], result: Any) -> SMTPError:
    """The error factory the C layer calls (see _core.set_error_factory)."""
    if result is not None:
        from ._result import SendResult
        result = SendResult._from_core(result)
    cls = CLASSES.get(category, SMTPError)
    return cls(message, category=category, code=code, enhanced_code=enhanced_code,
               server_message=server_message, server_bytes=server_bytes, hint=hint,
               transcript=transcript, result=result)
