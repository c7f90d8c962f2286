"""python -m smtpcore send|check: the smtpcore command-line tool's main options, in Python over the API.

Exit codes as the C tool: 0 sent/ok; 2 bad command line; 3 sent but some recipients refused;
11 connect, 12 dns, 13 tls, 14 auth, 15 sender, 16 recipient, 17 size, 18 relay, 19 timeout,
20 protocol, 21 local, 22 usage.
"""
from __future__ import annotations

import argparse
import os
import sys
from typing import Any, List, Optional, Sequence

from . import Client, Message, SMTPError, UsageError, _core, presets

EXIT_OK, EXIT_BAD_ARGS, EXIT_PARTIAL, EXIT_CATEGORY_BASE = 0, 2, 3, 10


def _exit_code(e: SMTPError) -> int:
    names = _core.categories()
    return EXIT_CATEGORY_BASE + (names.index(e.category) if e.category in names else names.index("local"))


class _ArgumentParser(argparse.ArgumentParser):
    def error(self, message: str) -> "Any":  # exit 2 like the C tool (argparse's default too)
        self.print_usage(sys.stderr)
        self.exit(EXIT_BAD_ARGS, "%s: %s\n" % (self.prog, message))


class _Part(argparse.Action):
    """--attach FILE / --inline CID=FILE, optionally followed by --attach-as NAME / --attach-type TYPE."""

    def __call__(self, parser: argparse.ArgumentParser, ns: argparse.Namespace, value: Any,
                 option: Optional[str] = None) -> None:
        parts = getattr(ns, "parts", None) or []
        if option == "--inline":
            cid, eq, path = value.partition("=")
            if not eq or not cid or not path:
                parser.error("--inline takes CID=FILE (the file's name is the part's name)")
            parts.append({"kind": "inline", "cid": cid, "path": path, "as": None, "type": None})
        else:
            parts.append({"kind": "attach", "path": value, "as": None, "type": None})
        ns.parts = parts


class _Modifier(argparse.Action):
    def __call__(self, parser: argparse.ArgumentParser, ns: argparse.Namespace, value: Any,
                 option: Optional[str] = None) -> None:
        parts = getattr(ns, "parts", None)
        if not parts:
            parser.error("%s must follow --attach or --inline" % option)
        key = "as" if option == "--attach-as" else "type"
        if key == "as" and parts[-1]["kind"] == "inline":
            parser.error("--inline takes CID=FILE (the file's name is the part's name)")
        parts[-1][key] = value


def _connection_options(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("connection options")
    g.add_argument("--host", help="SMTP server")
    g.add_argument("--port", type=int, help="default: 587 (starttls), 465 (tls), 25 (none)")
    g.add_argument("--security", choices=["starttls", "tls", "opportunistic", "none"],
                   help="starttls (default, required) | tls | opportunistic | none")
    g.add_argument("--preset", help="provider preset: " + ", ".join(x["name"] for x in presets()))
    g.add_argument("--region", help="region for presets that need one (amazon-ses)")
    g.add_argument("--user", help="user name for AUTH")
    g.add_argument("--password-env", metavar="VAR", help="read the password from environment variable VAR")
    g.add_argument("--password-file", metavar="FILE", help="read the password from the first line of FILE "
                   "(default: $SMTPCORE_PASSWORD if set)")
    g.add_argument("--oauth2-token-env", metavar="VAR", help="bearer token for XOAUTH2 from variable VAR")
    g.add_argument("--auth-mechanism", metavar="MECH",
                   help="PLAIN, LOGIN, CRAM-MD5, SCRAM-SHA-256, XOAUTH2 (default: strongest offered)")
    g.add_argument("--allow-plaintext-auth", action="store_true", help="allow AUTH without TLS (dangerous)")
    g.add_argument("--ca-file", help="trust these CA certificates instead of the system store")
    g.add_argument("--ca-dir")
    g.add_argument("--client-cert")
    g.add_argument("--client-key")
    g.add_argument("--tls-server-name", metavar="NAME", help="name to verify in the certificate")
    g.add_argument("--insecure", action="store_true", help="do not verify the server certificate (tests only)")
    g.add_argument("--ehlo-name", metavar="NAME")
    g.add_argument("--connect-timeout", type=int, metavar="MS", default=30000, help="default 30000")
    g.add_argument("--timeout", type=int, metavar="MS", default=60000, help="per reply, default 60000")
    g.add_argument("--no-pipelining", action="store_true")
    g.add_argument("--no-chunking", action="store_true")
    g.add_argument("--all-or-nothing", action="store_true")
    g.add_argument("-v", "--verbose", action="store_true", help="print the (redacted) protocol transcript")


def _env(var: str, prog: str) -> str:
    value = os.environ.get(var)
    if value is None:
        print("%s: environment variable %s is not set" % (prog, var), file=sys.stderr)
        raise SystemExit(EXIT_BAD_ARGS)
    return value


def _client(args: argparse.Namespace, prog: str) -> Client:
    password = token = None
    if args.password_env:
        password = _env(args.password_env, prog)
    elif args.password_file:
        try:
            with open(args.password_file, encoding="utf-8") as f:
                password = f.readline().rstrip("\r\n")
        except OSError as e:
            print("%s: cannot read %s: %s" % (prog, args.password_file, e.strerror), file=sys.stderr)
            raise SystemExit(EXIT_BAD_ARGS)
    elif args.user and os.environ.get("SMTPCORE_PASSWORD") is not None:
        password = os.environ["SMTPCORE_PASSWORD"]
    if args.oauth2_token_env:
        token = _env(args.oauth2_token_env, prog)
    return Client(args.host, args.port, security=args.security, username=args.user, password=password,
                  oauth2_token=token, preset=args.preset, region=args.region, auth_mechanism=args.auth_mechanism,
                  timeout=args.timeout / 1000.0, connect_timeout=args.connect_timeout / 1000.0,
                  ca_file=args.ca_file, ca_dir=args.ca_dir, client_cert=args.client_cert,
                  client_key=args.client_key, ehlo_name=args.ehlo_name, verify=not args.insecure,
                  allow_plaintext_auth=args.allow_plaintext_auth, all_or_nothing=args.all_or_nothing,
                  transcript=True, tls_server_name=args.tls_server_name, pipelining=not args.no_pipelining,
                  chunking=not args.no_chunking)


def _report(prog: str, what: str, e: SMTPError, transcript: Sequence[str], verbose: bool) -> int:
    err = sys.stderr
    print("%s: %s failed: %s" % (prog, what, e.message), file=err)
    print("  category: %s" % e.category, file=err)
    if e.code:
        print("  reply code: %d" % e.code, file=err)
    if e.enhanced_code:
        print("  enhanced code: %s" % e.enhanced_code, file=err)
    if e.server_message:
        print("  server said: %s" % e.server_message, file=err)
    if e.hint:
        print("  hint: %s" % e.hint, file=err)
    lines = list(transcript) or list(e.transcript or [])
    if lines:
        print("Transcript (passwords redacted):", file=err)
        for line in lines:
            print("  " + line, file=err)
    return _exit_code(e)


def _print_transcript(lines: Sequence[str], out: Any) -> None:
    print("Transcript (passwords redacted):", file=out)
    for line in lines:
        print("  " + line, file=out)


# ------------------------------------------------------------------ send

_COMPOSE = ("subject", "text", "text_file", "html", "html_file", "parts", "calendar", "header", "cc", "bcc",
            "reply_to", "dkim_domain", "dkim_selector", "dkim_key", "dkim_canon", "dkim_headers", "seed", "date")


def _send_parser() -> argparse.ArgumentParser:
    p = _ArgumentParser(prog="python -m smtpcore send",
                        description="Send the message in FILE (or standard input) as it is, or build one with "
                                    "the composition options.")
    p.add_argument("file", nargs="?", help="message file ('-' or none: standard input)")
    p.add_argument("--from", dest="from_", metavar="ADDR", help="sender (\"\" for a null envelope sender)")
    p.add_argument("--to", action="append", default=[], metavar="ADDR", help="recipient (repeat for more)")
    c = p.add_argument_group("composition options (build the message instead of reading one)")
    c.add_argument("--subject")
    c.add_argument("--text")
    c.add_argument("--text-file", metavar="FILE")
    c.add_argument("--html")
    c.add_argument("--html-file", metavar="FILE")
    c.add_argument("--attach", action=_Part, metavar="FILE", help="attachment (repeatable)")
    c.add_argument("--inline", action=_Part, metavar="CID=FILE", help="inline image, referenced as cid:CID")
    c.add_argument("--attach-as", action=_Modifier, metavar="NAME", help="name of the preceding --attach")
    c.add_argument("--attach-type", action=_Modifier, metavar="TYPE", help="type of the preceding part")
    c.add_argument("--calendar", metavar="FILE", help="text/calendar invitation (method REQUEST)")
    c.add_argument("--header", action="append", default=[], metavar="'Name: value'")
    c.add_argument("--cc", action="append", default=[])
    c.add_argument("--bcc", action="append", default=[])
    c.add_argument("--reply-to", action="append", default=[])
    c.add_argument("--dkim-domain")
    c.add_argument("--dkim-selector")
    c.add_argument("--dkim-key", metavar="KEY.pem")
    c.add_argument("--dkim-canon")
    c.add_argument("--dkim-headers")
    c.add_argument("--print", action="store_true", help="write the message to standard output, do not send")
    c.add_argument("--print-8bit", action="store_true")
    c.add_argument("--print-smtputf8", action="store_true")
    c.add_argument("--seed", type=int)
    c.add_argument("--date", type=int, metavar="UNIXTIME")
    _connection_options(p)
    return p


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()


def _compose(args: argparse.Namespace) -> Message:
    m = Message()
    if args.from_ is not None:
        m.set_from(args.from_)
    m.add_to(args.to)
    m.add_cc(args.cc)
    m.add_bcc(args.bcc)
    m.add_reply_to(args.reply_to)
    if args.subject is not None:
        m.set_subject(args.subject)
    if args.text is not None or args.text_file:
        m.set_text(_read(args.text_file) if args.text_file else args.text)
    if args.html is not None or args.html_file:
        m.set_html(_read(args.html_file) if args.html_file else args.html)
    if args.calendar:
        m.set_calendar(_read(args.calendar), "REQUEST")
    for part in getattr(args, "parts", None) or []:
        if part["kind"] == "attach":
            m.attach(part["path"], part["as"], part["type"])
        else:
            m.embed(part["path"], part["cid"], part["type"])
    for h in args.header:
        name, colon, value = h.partition(":")
        if not colon:
            raise UsageError("--header takes 'Name: value'")
        m.add_header(name, value.lstrip(" "))
    if args.seed is not None:
        m.set_seed(args.seed)
    if args.date is not None:
        m.set_date(args.date)
    dkim = (args.dkim_domain, args.dkim_selector, args.dkim_key)
    if any(dkim):
        if not all(dkim):
            raise UsageError("DKIM needs --dkim-domain, --dkim-selector and --dkim-key")
        m.add_dkim(args.dkim_domain, args.dkim_selector, key_file=args.dkim_key,
                   canonicalization=args.dkim_canon, headers=args.dkim_headers)
    return m


def _print_result(result: Any) -> None:
    for r in result:
        print("%s <%s> %d %s" % ("accepted" if r.accepted else "refused ", r.address, r.code, r.message or ""))


def cmd_send(argv: Sequence[str]) -> int:
    prog = "smtpcore send"
    args = _send_parser().parse_args(argv)
    composing = any(getattr(args, k, None) not in (None, [], False) for k in _COMPOSE) or args.print
    if composing and args.file:
        print("%s: a message file cannot be combined with composition options" % prog, file=sys.stderr)
        return EXIT_BAD_ARGS
    try:
        if composing:
            msg = _compose(args)
            if args.print:
                msg.write_to(sys.stdout.buffer, eight_bit=args.print_8bit, smtputf8=args.print_smtputf8)
                sys.stdout.buffer.flush()
                return EXIT_OK
        elif args.from_ is None or not args.to:
            print("%s: --from and at least one --to are required" % prog, file=sys.stderr)
            return EXIT_BAD_ARGS
        client = _client(args, prog)
    except SMTPError as e:
        print("%s: %s" % (prog, e.message), file=sys.stderr)
        return _exit_code(e)
    except OSError as e:
        print("%s: %s" % (prog, e), file=sys.stderr)
        return EXIT_CATEGORY_BASE + _core.categories().index("local")
    with client:
        try:
            if composing:
                result = client.send(msg)
            elif not args.file or args.file == "-":
                result = client.send_raw(sys.stdin.buffer, args.from_, args.to)
            else:
                with open(args.file, "rb") as f:
                    result = client.send_raw(f, args.from_, args.to, size_hint=os.fstat(f.fileno()).st_size)
        except SMTPError as e:
            if getattr(e, "result", None) is not None:
                _print_result(e.result)
            return _report(prog, "send", e, client.transcript, args.verbose)
        except OSError as e:
            print("%s: cannot open %s: %s" % (prog, args.file, e.strerror), file=sys.stderr)
            return EXIT_CATEGORY_BASE + _core.categories().index("local")
        _print_result(result)
        print("sent: %d %s" % (result.code, result.message or ""))
        if args.verbose:
            _print_transcript(client.transcript, sys.stdout)
        return EXIT_OK if result.ok else EXIT_PARTIAL


# ------------------------------------------------------------------ check

def cmd_check(argv: Sequence[str]) -> int:
    prog = "smtpcore check"
    p = _ArgumentParser(prog="python -m smtpcore check",
                        description="Connect, show the server's capabilities before and after STARTTLS, and "
                                    "try AUTH when a user is given.")
    _connection_options(p)
    args = p.parse_args(argv)
    try:
        client = _client(args, prog)
    except SMTPError as e:
        print("%s: %s" % (prog, e.message), file=sys.stderr)
        return _exit_code(e)
    with client:
        try:
            client.connect()
        except SMTPError as e:
            return _report(prog, "check", e, client.transcript, args.verbose)
        info = client.info or {}
        print("Greeting: %s" % (info.get("greeting") or ""))
        if info.get("ehlo_before_tls") is not None:
            _print_caps("Capabilities before STARTTLS:", info["ehlo_before_tls"])
        if info.get("tls"):
            print("TLS: %s, %s (certificate %s)" % (info.get("tls_version") or "?", info.get("tls_cipher") or "?",
                                                   "checked" if not args.insecure else "NOT checked"))
        else:
            print("TLS: none (the connection is not encrypted)")
        _print_caps("Capabilities after STARTTLS:" if info.get("ehlo_before_tls") is not None else "Capabilities:",
                    info.get("ehlo") or [])
        if info.get("auth_mechanism"):
            print("AUTH: %s succeeded" % info["auth_mechanism"])
        else:
            print("AUTH: not tried (no user given)")
        if args.verbose:
            _print_transcript(client.transcript, sys.stdout)
        print("OK")
    return EXIT_OK


def _print_caps(title: str, lines: List[str]) -> None:
    print(title)
    if len(lines) < 2:
        print("  (no extensions)")
    for line in lines[1:]:  # the first line is the server's name
        print("  " + line)


USAGE = """usage: python -m smtpcore send [options] [FILE]
       python -m smtpcore check [options]
       python -m smtpcore presets | version

Run "python -m smtpcore send --help" or "python -m smtpcore check --help" for the options.
"""


def main(argv: Optional[Sequence[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        sys.stdout.write(USAGE)
        return EXIT_OK if argv else EXIT_BAD_ARGS
    cmd, rest = argv[0], argv[1:]
    if cmd == "send":
        return cmd_send(rest)
    if cmd == "check":
        return cmd_check(rest)
    if cmd in ("version", "--version"):
        print("smtpcore %s (Python binding)" % _core.version())
        return EXIT_OK
    if cmd == "presets":
        for pr in presets():
            print("%-12s %s:%d %s  (%s; user: %s)" % (pr["name"], pr["host"], pr["port"], pr["security"],
                                                    pr["label"], pr["username_hint"]))
        return EXIT_OK
    sys.stderr.write("smtpcore: unknown command %r\n%s" % (cmd, USAGE))
    return EXIT_BAD_ARGS


if __name__ == "__main__":
    sys.exit(main())
