"""smtpcore: send email over SMTP, fast and safely.

A thin Python layer over smtpcore's C core: message composition that streams
(:class:`Message`), a client for one server (:class:`Client`), a thread-safe
connection pool (:class:`Pool`), one exception class per kind of failure,
each with the SMTP codes and a plain-language hint, and an smtplib drop-in
(:mod:`smtpcore.smtplib`, also :class:`SMTP` and :class:`SMTP_SSL` here).

::

    import smtpcore

    msg = smtpcore.Message(from_="me@example.com", to="you@example.org",
                           subject="Hello", text="Hi there", attachments=["report.pdf"])
    with smtpcore.Client("smtp.example.com", username="me@example.com", password=pw) as client:
        result = client.send(msg)
"""
from typing import Any, Dict, List, Optional

from . import _core
from ._client import Client, Pool
from ._errors import (AuthError, ConnectError, DNSError, LocalError, MessageTooLarge, ProtocolError,
                      RecipientsRefused, RelayDenied, SenderRefused, SMTPError, TimeoutError, TLSError,
                      UsageError, _from_core)
from ._message import Message, flatten_email_message
from ._result import RecipientStatus, SendResult

_core.set_error_factory(_from_core)

from .smtplib import SMTP, SMTP_SSL  # noqa: E402  (after the error factory is installed)

__version__: str = _core.VERSION

__all__ = [
    "Message", "Client", "Pool", "SendResult", "RecipientStatus", "SMTP", "SMTP_SSL",
    "SMTPError", "ConnectError", "DNSError", "TLSError", "AuthError", "SenderRefused", "RecipientsRefused",
    "MessageTooLarge", "RelayDenied", "TimeoutError", "ProtocolError", "LocalError", "UsageError",
    "presets", "hint_for", "flatten_email_message", "__version__",
]


def presets() -> List[Dict[str, Any]]:
    """Provider presets: [{name, label, host, port, security, username_hint}, ...]. Use one with
    ``Client(preset="gmail", username=..., password=...)``."""
    return _core.presets()


def hint_for(category: str, code: int = 0, enhanced: Optional[str] = None) -> Optional[str]:
    """The plain-language hint smtpcore gives for a failure: category (``"auth"``, ``"tls"``, ...),
    SMTP reply code and enhanced status code (``"5.7.8"``)."""
    return _core.hint_for(category, code, enhanced)
