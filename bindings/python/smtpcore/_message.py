"""Message composition over the C core's message description, and the
conversion of email.message objects into bytes plus an envelope."""
from __future__ import annotations

import copy
import datetime as _dt
import email.generator
import email.message
import email.utils
import io
import os
import stat
import tempfile
import weakref
from typing import IO, Any, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

from . import _core
from ._errors import LocalError, UsageError

__all__ = ["Message", "flatten_email_message"]

PathLike = Union[str, "os.PathLike[str]"]
Source = Union[PathLike, bytes, bytearray, memoryview, IO[bytes]]
AddressList = Union[str, Iterable[str]]

_COPY_CHUNK = 1 << 20


def _flags(eight_bit: bool, smtputf8: bool) -> int:
    return (_core.RENDER_8BIT if eight_bit else 0) | (_core.RENDER_SMTPUTF8 if smtputf8 else 0)


def _address_items(value: Any, what: str) -> List[str]:
    """A str (one address or a comma-separated list) or an iterable of them."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, (bytes, bytearray)):
        raise TypeError("%s must be str or an iterable of str, not bytes" % what)
    try:
        items = list(value)
    except TypeError:
        raise TypeError("%s must be str or an iterable of str, not %s" % (what, type(value).__name__)) from None
    out = []
    for item in items:
        if isinstance(item, str):
            out.append(item)
        elif hasattr(item, "addr_spec"):  # email.headerregistry.Address
            out.append(str(item))
        else:
            raise TypeError("%s: every address must be a str, not %s" % (what, type(item).__name__))
    return out


def _remove_files(paths: List[str]) -> None:
    for p in paths:
        try:
            os.unlink(p)
        except OSError:
            pass
    paths.clear()


def _is_path(source: Any) -> bool:
    return isinstance(source, (str, os.PathLike))


def _is_file(source: Any) -> bool:
    return hasattr(source, "read") and not _is_path(source)


def _file_name(f: Any) -> Optional[str]:
    name = getattr(f, "name", None)
    if isinstance(name, bytes):
        name = os.fsdecode(name)
    if isinstance(name, str) and name and not name.startswith("<"):
        return os.path.basename(name)
    return None



def _check_plain_file(path: Any) -> None:
    """Refuse what the core refuses for attachment paths: URLs, devices, FIFOs, directories."""
    text = os.fspath(path)
    if isinstance(text, bytes):
        text = text.decode("utf-8", "surrogateescape")
    if "\0" in text:
        raise UsageError("a file name must not contain NUL")
    if "://" in text:
        raise UsageError("attachments are read from plain files, not URLs")
    try:
        st = os.stat(text)
    except OSError as e:
        raise LocalError("cannot read attachment file %r: %s" % (text, e.strerror)) from None
    if not stat.S_ISREG(st.st_mode):
        raise UsageError("%r is not a regular file" % text)

class Message:
    """An email message, composed by smtpcore's C core.

    Every argument is optional and has a method that does the same later::

        msg = smtpcore.Message(
            from_="Me <me@example.com>", to=["You <you@example.org>"], subject="Report",
            text="Hello", html="<p>Hello <img src='cid:logo'></p>",
            attachments=["report.pdf", ("data.csv", b"a,b\\n1,2\\n", "text/csv")],
            inline={"logo": "logo.png"})

    Addresses are RFC 5322 text (``"Name <a@example.com>"``); ``to``, ``cc``, ``bcc`` and
    ``reply_to`` take one string (which may be a comma-separated list) or a list. Bcc recipients
    get the message but never appear in its headers.

    ``attachments`` items: a path (str or PathLike; the file is read while sending), bytes, a binary
    file object (copied to a temporary file in chunks), a tuple ``(filename, content[, content_type])``
    or a dict with ``path``/``data``/``file``, ``filename`` and ``content_type``.
    ``inline`` maps content ids to the same kinds of sources (or is a list of
    ``(cid, source[, content_type])``); the HTML refers to them as ``cid:<id>``.

    ``headers``: a mapping or a list of ``(name, value)`` pairs. ``seed`` makes boundaries, the
    Message-ID and (unless ``date`` is given) the Date reproducible. ``date``: a datetime (naive means
    UTC) or a Unix time. ``dkim``: a dict (``domain``, ``selector``, ``private_key`` or ``key_file``,
    optional ``canonicalization``, ``headers``, ``timestamp``) or a list of them.

    The rendered message is never held in memory when sending; :meth:`as_bytes` renders it whole.
    """

    def __init__(self, from_: Optional[str] = None, to: AddressList = (), cc: AddressList = (),
                 bcc: AddressList = (), reply_to: AddressList = (), subject: Optional[str] = None,
                 text: Union[str, bytes, None] = None, html: Union[str, bytes, None] = None,
                 attachments: Iterable[Any] = (), inline: Union[Mapping[str, Any], Iterable[Any]] = (),
                 headers: Union[Mapping[str, str], Iterable[Tuple[str, str]], None] = None,
                 seed: Optional[int] = None, date: Union[_dt.datetime, int, float, None] = None,
                 dkim: Union[Mapping[str, Any], Sequence[Mapping[str, Any]], None] = None, *,
                 sender: Optional[str] = None, envelope_sender: Optional[str] = None,
                 calendar: Union[str, bytes, None] = None, calendar_method: str = "REQUEST") -> None:
        self._m = _core.Message()
        self._tempfiles: List[str] = []
        self._finalizer = weakref.finalize(self, _remove_files, self._tempfiles)
        self._subject = subject
        self._from = from_
        if from_ is not None:
            self.set_from(from_)
        if sender is not None:
            self.set_sender(sender)
        if envelope_sender is not None:
            self.set_envelope_sender(envelope_sender)
        self.add_to(to)
        self.add_cc(cc)
        self.add_bcc(bcc)
        self.add_reply_to(reply_to)
        if subject is not None:
            self.set_subject(subject)
        if text is not None:
            self.set_text(text)
        if html is not None:
            self.set_html(html)
        if calendar is not None:
            self.set_calendar(calendar, calendar_method)
        if isinstance(inline, Mapping):
            for cid, src in inline.items():
                self.embed(src, cid)
        else:
            for item in inline:
                self._add_inline_item(item)
        for item in attachments:
            self._add_attachment_item(item)
        if headers:
            pairs = headers.items() if isinstance(headers, Mapping) else headers
            for name, value in pairs:
                self.add_header(name, value)
        if seed is not None:
            self.set_seed(seed)
        if date is not None:
            self.set_date(date)
        if dkim:
            for d in ([dkim] if isinstance(dkim, Mapping) else dkim):
                self.add_dkim(**d)

    def __repr__(self) -> str:
        return "<smtpcore.Message from=%r subject=%r>" % (self._from, self._subject)

    # ---------------------------------------------------------------- addresses

    def set_from(self, mailbox: str) -> "Message":
        """Set From (also the envelope sender unless Sender or an envelope sender is set)."""
        self._m.set_from(mailbox)
        self._from = mailbox
        return self

    def set_sender(self, mailbox: str) -> "Message":
        """Set the Sender header (the envelope sender, unless set_envelope_sender is used)."""
        self._m.set_sender(mailbox)
        return self

    def set_envelope_sender(self, address: str) -> "Message":
        """The envelope sender (Return-Path) when it differs from Sender/From; "" for a null sender."""
        self._m.set_envelope_sender(address)
        return self

    def add_to(self, *addresses: AddressList) -> "Message":
        for a in addresses:
            for item in _address_items(a, "to"):
                self._m.add_to(item)
        return self

    def add_cc(self, *addresses: AddressList) -> "Message":
        for a in addresses:
            for item in _address_items(a, "cc"):
                self._m.add_cc(item)
        return self

    def add_bcc(self, *addresses: AddressList) -> "Message":
        """Recipients that get the message but never appear in its headers."""
        for a in addresses:
            for item in _address_items(a, "bcc"):
                self._m.add_bcc(item)
        return self

    def add_reply_to(self, *addresses: AddressList) -> "Message":
        for a in addresses:
            for item in _address_items(a, "reply_to"):
                self._m.add_reply_to(item)
        return self

    # ---------------------------------------------------------------- content

    def set_subject(self, subject: str) -> "Message":
        self._m.set_subject(subject)
        self._subject = subject
        return self

    def set_text(self, text: Union[str, bytes]) -> "Message":
        """The plain-text body (str, or UTF-8 bytes)."""
        self._m.set_text(text)
        return self

    def set_html(self, html: Union[str, bytes]) -> "Message":
        """The HTML body (str, or UTF-8 bytes)."""
        self._m.set_html(html)
        return self

    def set_calendar(self, ics: Union[str, bytes], method: str = "REQUEST") -> "Message":
        """An iCalendar invitation, shown by mail clients as an invitation (also attached as invite.ics)."""
        self._m.set_calendar(ics, method)
        return self

    def attach(self, source: Source, filename: Optional[str] = None,
               content_type: Optional[str] = None) -> "Message":
        """Attach a file path (read while sending), bytes, or a binary file object.

        ``filename`` defaults to the file's name; ``content_type`` to a type guessed from the
        file name's extension."""
        if isinstance(source, (str, os.PathLike)):
            self._m.attach_file(source, filename, content_type)
        elif isinstance(source, (bytes, bytearray, memoryview)):
            self._m.attach_data(source, filename, content_type)
        elif _is_file(source):
            name = filename or _file_name(source) or "attachment"
            self._m.attach_file(self._spool(source), name, content_type)
        else:
            raise TypeError("an attachment is a path, bytes or a binary file object, not %s"
                            % type(source).__name__)
        return self

    def embed(self, source: Source, cid: str, content_type: Optional[str] = None,
              filename: Optional[str] = None) -> str:
        """Add an inline image for the HTML part, referenced there as ``cid:<cid>``. Returns cid."""
        if not isinstance(cid, str):
            raise TypeError("cid must be a str, not %s" % type(cid).__name__)
        if isinstance(source, (str, os.PathLike)) and filename is None:
            self._m.embed_file(source, cid, content_type)
        elif isinstance(source, (str, os.PathLike)):
            # A different part name: read it here (inline images are small), but
            # only from a plain file, as the core does for paths.
            _check_plain_file(source)
            with open(source, "rb") as f:
                self._m.embed_data(f.read(), cid, filename, content_type)
        elif isinstance(source, (bytes, bytearray, memoryview)):
            self._m.embed_data(source, cid, filename, content_type)
        elif _is_file(source):  # inline images are small: read it
            self._m.embed_data(self._read_all(source), cid, filename or _file_name(source), content_type)
        else:
            raise TypeError("an inline image is a path, bytes or a binary file object, not %s"
                            % type(source).__name__)
        return cid

    add_inline = embed

    def add_header(self, name: str, value: str) -> "Message":
        """Any other header (Message-ID, In-Reply-To, References, List-Unsubscribe, X-...).

        From, To, Cc, Bcc, Subject, MIME-Version and Content-* are managed by the message."""
        self._m.add_header(name, value)
        return self

    def set_seed(self, seed: int) -> "Message":
        """Reproducible boundaries, Message-ID and Date (for tests and golden files)."""
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise TypeError("seed must be an int")
        if not 0 <= seed < 1 << 64:
            raise UsageError("seed must be between 0 and 2**64-1")
        self._m.set_seed(seed)
        return self

    def set_date(self, date: Union[_dt.datetime, int, float]) -> "Message":
        """The Date header: an aware datetime (its zone is kept), a naive one (UTC), or a Unix time."""
        if isinstance(date, _dt.datetime):
            if date.tzinfo is None:
                date = date.replace(tzinfo=_dt.timezone.utc)
            offset = date.utcoffset() or _dt.timedelta(0)
            self._m.set_date(int(date.timestamp()), int(offset.total_seconds() // 60))
        elif isinstance(date, (int, float)) and not isinstance(date, bool):
            self._m.set_date(int(date), 0)
        else:
            raise TypeError("date must be a datetime or a Unix time, not %s" % type(date).__name__)
        return self

    def add_dkim(self, domain: str, selector: str, private_key: Union[str, bytes, None] = None, *,
                 key_file: Optional[PathLike] = None, canonicalization: Optional[str] = None,
                 headers: Union[str, Sequence[str], None] = None, timestamp: Optional[int] = None) -> "Message":
        """Sign with DKIM (RSA-SHA256 or Ed25519-SHA256, from the PEM key) when the message is rendered.

        ``canonicalization``: "relaxed/relaxed" (default), "simple/simple", ... ``headers``: the h= list
        (From is always signed). ``timestamp``: t=; None means now (or none with a seed), -1 omits it.
        May be called twice (for example RSA and Ed25519)."""
        if (private_key is None) == (key_file is None):
            raise UsageError("give exactly one of private_key and key_file")
        if key_file is not None:
            with open(key_file, "rb") as f:
                private_key = f.read()
        assert private_key is not None
        if headers is not None and not isinstance(headers, str):
            headers = ":".join(headers)
        self._m.add_dkim(domain, selector, private_key, canonicalization, headers,
                         0 if timestamp is None else int(timestamp))
        return self

    # ---------------------------------------------------------------- output

    def as_bytes(self, *, eight_bit: bool = False, smtputf8: bool = False) -> bytes:
        """The rendered message. ``eight_bit``/``smtputf8``: what the transport may carry (8BITMIME,
        SMTPUTF8); without them the output is 7-bit. The GIL is released while rendering."""
        return self._m.to_bytes(_flags(eight_bit, smtputf8))

    def __bytes__(self) -> bytes:
        return self.as_bytes()

    def size(self, *, eight_bit: bool = False, smtputf8: bool = False) -> int:
        """Exact size of the rendered message in bytes (files are stat'ed, not read)."""
        return self._m.size(_flags(eight_bit, smtputf8))

    def envelope(self, *, smtputf8: bool = False) -> Tuple[str, List[str]]:
        """(sender, recipients) implied by the message: envelope sender, else Sender, else From; To, Cc
        and Bcc without duplicates."""
        return self._m.envelope(_flags(False, smtputf8))

    def write_to(self, fp: IO[bytes], *, eight_bit: bool = False, smtputf8: bool = False) -> int:
        """Stream the rendered message into a binary file object; returns the byte count."""
        reader = self._m.reader(_flags(eight_bit, smtputf8))
        total = 0
        try:
            while True:
                chunk = reader.read(65536)
                if not chunk:
                    return total
                fp.write(chunk)
                total += len(chunk)
        finally:
            reader.close()

    # ---------------------------------------------------------------- helpers

    def _spool(self, f: Any) -> str:
        """Copy a file object into a private temporary file, chunk by chunk (removed with the message)."""
        fd, path = tempfile.mkstemp(prefix="smtpcore-")
        self._tempfiles.append(path)
        with os.fdopen(fd, "wb") as out:
            while True:
                chunk = f.read(_COPY_CHUNK)
                if not chunk:
                    break
                if isinstance(chunk, str):
                    raise TypeError("the attachment file must be opened in binary mode")
                out.write(chunk)
        return path

    @staticmethod
    def _read_all(f: Any) -> bytes:
        data = f.read()
        if isinstance(data, str):
            raise TypeError("the file must be opened in binary mode")
        return bytes(data)

    def _add_attachment_item(self, item: Any) -> None:
        if isinstance(item, tuple):
            if len(item) not in (2, 3):
                raise TypeError("an attachment tuple is (filename, content[, content_type])")
            filename, content = item[0], item[1]
            ctype = item[2] if len(item) == 3 else None
            if isinstance(content, str):
                content = content.encode("utf-8")
            if _is_path(content):
                raise TypeError("in a (filename, content) tuple the content is bytes or a file object")
            self.attach(content, filename, ctype)
        elif isinstance(item, Mapping):
            self.attach(_dict_source(item, "attachment"), item.get("filename"), item.get("content_type"))
        else:
            self.attach(item)

    def _add_inline_item(self, item: Any) -> None:
        if isinstance(item, tuple):
            if len(item) not in (2, 3):
                raise TypeError("an inline tuple is (cid, source[, content_type])")
            self.embed(item[1], item[0], item[2] if len(item) == 3 else None)
        elif isinstance(item, Mapping):
            self.embed(_dict_source(item, "inline part"), item["cid"], item.get("content_type"),
                       item.get("filename"))
        else:
            raise TypeError("inline is a mapping {cid: source} or a list of (cid, source) tuples")


def _dict_source(d: Mapping[str, Any], what: str) -> Any:
    keys = [k for k in ("path", "data", "file") if k in d]
    if len(keys) != 1:
        raise TypeError("an %s dict needs exactly one of 'path', 'data' and 'file'" % what)
    src = d[keys[0]]
    if keys[0] == "data" and isinstance(src, str):
        src = src.encode("utf-8")
    return src


def flatten_email_message(msg: email.message.Message, from_addr: Optional[str] = None,
                          to_addrs: Optional[Sequence[str]] = None) -> Tuple[bytes, str, List[str], bool]:
    """What smtplib.SMTP.send_message does with an email.message object: the envelope from
    Resent-*/Sender/From and To/Cc/Bcc, the bytes with Bcc and Resent-Bcc removed, CRLF line ends,
    and UTF-8 headers (SMTPUTF8) when an address needs them.

    Returns (bytes, sender, recipients, international)."""
    resent = msg.get_all("Resent-Date")
    if resent is None:
        prefix = ""
    elif len(resent) == 1:
        prefix = "Resent-"
    else:
        raise UsageError("the message has more than one 'Resent-' header block")
    if from_addr is None:
        field = msg[prefix + "Sender"] if (prefix + "Sender") in msg else msg[prefix + "From"]
        if field is None:
            raise UsageError("the message has no From or Sender header; give the sender explicitly")
        from_addr = email.utils.getaddresses([str(field)])[0][1]
    if to_addrs is None:
        fields = [str(f) for f in (msg[prefix + "To"], msg[prefix + "Bcc"], msg[prefix + "Cc"]) if f is not None]
        to_addrs = [a[1] for a in email.utils.getaddresses(fields) if a[1]]
    elif isinstance(to_addrs, str):
        to_addrs = [to_addrs]
    to_addrs = list(to_addrs)
    if not to_addrs:
        raise UsageError("the message has no recipients (To, Cc or Bcc)")
    msg_copy = copy.copy(msg)
    del msg_copy["Bcc"]
    del msg_copy["Resent-Bcc"]
    try:
        "".join([from_addr, *to_addrs]).encode("ascii")
        international = False
    except UnicodeEncodeError:
        international = True
    with io.BytesIO() as out:
        if international:
            gen = email.generator.BytesGenerator(out, policy=msg.policy.clone(utf8=True))
        else:
            gen = email.generator.BytesGenerator(out)
        gen.flatten(msg_copy, linesep="\r\n")
        data = out.getvalue()
    return data, from_addr, to_addrs, international
