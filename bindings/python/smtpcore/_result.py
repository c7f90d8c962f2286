"""Results of a send: one status per recipient and the server's final reply."""
from __future__ import annotations

from typing import Any, Dict, Iterator, List, Optional, Tuple, Union, overload

__all__ = ["RecipientStatus", "SendResult"]


class RecipientStatus:
    """What the server said about one recipient.

    ``code``, ``enhanced_code`` and ``message`` are the server's reply to RCPT TO (or, for an accepted
    recipient of a failed message, to the message). Unpacks as ``code, enhanced_code, message``.
    """

    __slots__ = ("address", "accepted", "code", "enhanced_code", "message")

    def __init__(self, code: int, enhanced_code: Optional[str], message: Optional[str], *,
                 address: str = "", accepted: bool = False) -> None:
        self.address = address
        self.accepted = accepted
        self.code = code
        self.enhanced_code = enhanced_code
        self.message = message

    def __iter__(self) -> Iterator[Any]:
        return iter((self.code, self.enhanced_code, self.message))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, RecipientStatus):
            return (self.address, self.accepted, self.code, self.enhanced_code, self.message) == (
                other.address, other.accepted, other.code, other.enhanced_code, other.message)
        if isinstance(other, tuple):
            return tuple(self) == other
        return NotImplemented

    def __hash__(self) -> int:
        return hash((self.address, self.accepted, self.code, self.enhanced_code, self.message))

    def __repr__(self) -> str:
        return "RecipientStatus(address=%r, accepted=%r, code=%r, enhanced_code=%r, message=%r)" % (
            self.address, self.accepted, self.code, self.enhanced_code, self.message)


class SendResult:
    """The outcome of one message.

    Attributes:
        accepted: addresses the server accepted, in envelope order.
        refused: ``{address: RecipientStatus}`` for every refused recipient.
        code, enhanced_code, message: the server's final reply (``message`` often holds the queue id).
        ok: True when every recipient was accepted.

    Iterating gives a :class:`RecipientStatus` per recipient; ``result[0]`` and
    ``result["bob@example.org"]`` index them.
    """

    __slots__ = ("code", "enhanced_code", "message", "recipients")

    def __init__(self, code: int, enhanced_code: Optional[str], message: Optional[str],
                 recipients: List[RecipientStatus]) -> None:
        self.code = code
        self.enhanced_code = enhanced_code
        self.message = message
        self.recipients = recipients

    @classmethod
    def _from_core(cls, t: Tuple[Any, ...]) -> "SendResult":
        code, enhanced, text, rcpts = t
        return cls(code, enhanced, text, [
            RecipientStatus(c, e, m, address=a, accepted=ok) for a, ok, c, e, m in rcpts])

    @property
    def accepted(self) -> List[str]:
        return [r.address for r in self.recipients if r.accepted]

    @property
    def refused(self) -> Dict[str, RecipientStatus]:
        return {r.address: r for r in self.recipients if not r.accepted}

    @property
    def ok(self) -> bool:
        return bool(self.recipients) and all(r.accepted for r in self.recipients)

    def __iter__(self) -> Iterator[RecipientStatus]:
        return iter(self.recipients)

    def __len__(self) -> int:
        return len(self.recipients)

    @overload
    def __getitem__(self, key: int) -> RecipientStatus: ...

    @overload
    def __getitem__(self, key: str) -> RecipientStatus: ...

    def __getitem__(self, key: Union[int, str]) -> RecipientStatus:
        if isinstance(key, str):
            for r in self.recipients:
                if r.address == key:
                    return r
            raise KeyError(key)
        return self.recipients[key]

    def __repr__(self) -> str:
        return "SendResult(code=%r, message=%r, accepted=%r, refused=%r)" % (
            self.code, self.message, self.accepted, sorted(self.refused))
