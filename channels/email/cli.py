"""``guichet mail parse FILE.eml [--json]``: what the pipeline would store, stored nowhere.

Prints the class and its reason, the clean text the bot would read, the quoted part
and the signature that were separated, the headers threading uses (Message-ID,
In-Reply-To, References, plus-address and subject tokens), the attachments (and
those omitted, with why), the bounce report if any, and the repairs the parser
made. ``FILE`` may be ``-`` for standard input. Exit code 0, or 2 when the file
cannot be read (a message that cannot be parsed is still described: exit 0).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from typing import Any

from channels.email.parse import parse_message
from channels.email.parsed import Address, ParsedMail
from gateway.config import Settings


def add_mail_commands(parser: argparse.ArgumentParser) -> None:
    """The ``mail`` sub-commands, under the ``guichet mail`` parser."""
    sub = parser.add_subparsers(dest="mail_command", required=True)
    parse = sub.add_parser("parse", help="show what the email pipeline makes of a message, store nothing")
    parse.add_argument("file", help="an RFC 5322 message (.eml), or - for standard input")
    parse.add_argument("--json", action="store_true", help="one JSON object")
    parse.add_argument(
        "--own-address",
        action="append",
        default=None,
        help="one of our support addresses (repeatable; default: email.addresses from the settings)",
    )
    parse.add_argument("--subject-token", help="regular expression of the ticket token in subjects")


def _address(a: Address | None) -> dict[str, str] | None:
    return None if a is None else {"address": a.address, "name": a.name}


def describe(mail: ParsedMail) -> dict[str, Any]:
    """The parse result as plain JSON-ready data (attachment bytes left out)."""
    return {
        "class": mail.mail_class.value,
        "reason": mail.class_reason,
        "automatic_reply_allowed": mail.automatic_reply_allowed,
        "raw_size": mail.raw_size,
        "threading": {
            "message_id": mail.message_id,
            "in_reply_to": list(mail.in_reply_to),
            "references": list(mail.references),
            "plus_tokens": list(mail.plus_tokens),
            "subject_token": mail.subject_token,
        },
        "subject": mail.subject,
        "from": _address(mail.sender),
        "reply_to": [_address(a) for a in mail.reply_to],
        "to": [_address(a) for a in mail.to],
        "cc": [_address(a) for a in mail.cc],
        "delivered_to": list(mail.delivered_to),
        "return_path": mail.return_path,
        "date": mail.date.isoformat() if mail.date else None,
        "auto_submitted": mail.auto_submitted,
        "language": mail.language,
        "text": mail.text,
        "quoted": mail.quoted,
        "signature": mail.signature,
        "has_html": mail.html is not None,
        "attachments": [
            {
                "filename": a.filename,
                "original_filename": a.original_filename,
                "content_type": a.content_type,
                "size": a.size,
                "inline": a.inline,
                "content_id": a.content_id,
                "filename_changes": list(a.filename_changes),
            }
            for a in mail.attachments
        ],
        "omitted": [
            {"filename": o.filename, "content_type": o.content_type, "size": o.size, "reason": o.reason}
            for o in mail.omitted
        ],
        "omitted_summary": mail.omitted_summary,
        "bounce": None
        if mail.bounce is None
        else {
            "kind": mail.bounce.kind,
            "original_message_id": mail.bounce.original_message_id,
            "permanent": mail.bounce.permanent,
            "temporary": mail.bounce.temporary,
            "reporting_mta": mail.bounce.reporting_mta,
            "recipients": [
                {"recipient": r.recipient, "status": r.status, "action": r.action, "diagnostic": r.diagnostic}
                for r in mail.bounce.recipients
            ],
        },
        "problems": list(mail.problems),
    }


def _human(d: dict[str, Any]) -> str:
    sender = d["from"]["address"] if d["from"] else "(none)"
    thread = d["threading"]
    lines = [
        f"class:      {d['class']} ({d['reason']})",
        f"auto-reply: {'allowed' if d['automatic_reply_allowed'] else 'never'}",
        f"from:       {sender}",
        f"subject:    {d['subject']}",
        f"message-id: {d['threading']['message_id']}",
        f"in-reply-to: {', '.join(d['threading']['in_reply_to']) or '-'}",
        f"references: {', '.join(d['threading']['references']) or '-'}",
        f"tokens:     plus {thread['plus_tokens'] or '-'}, subject {thread['subject_token'] or '-'}",
        "",
        "--- text for the bot ---",
        d["text"] or "(empty)",
    ]
    if d["signature"]:
        lines += ["--- signature ---", d["signature"]]
    if d["quoted"]:
        lines += ["--- quoted history ---", d["quoted"]]
    for a in d["attachments"]:
        lines.append(f"attachment: {a['filename']} ({a['content_type']}, {a['size']} bytes)")
    if d["omitted_summary"]:
        lines.append(d["omitted_summary"])
    if d["bounce"]:
        for r in d["bounce"]["recipients"]:
            lines.append(f"bounce: {r['recipient']} {r['status']} {r['action']}")
    for p in d["problems"]:
        lines.append(f"repaired: {p}")
    return "\n".join(lines)


def run_mail_command(args: argparse.Namespace, settings: Settings) -> int:
    if args.mail_command != "parse":  # pragma: no cover - argparse rejects others
        return 2
    try:
        if args.file == "-":
            raw = sys.stdin.buffer.read()
        else:
            with open(args.file, "rb") as fh:
                raw = fh.read()
    except OSError as exc:
        print(f"cannot read {args.file}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    own = args.own_address if args.own_address is not None else list(settings.email.addresses)
    kwargs: dict[str, Any] = {"own_addresses": own}
    if args.subject_token:
        kwargs["subject_token"] = args.subject_token
    try:
        mail = parse_message(raw, **kwargs)
    except re.error as exc:  # an invalid --subject-token pattern
        print(f"invalid --subject-token: {exc}", file=sys.stderr)
        return 2
    data = describe(mail)
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        print(_human(data))
    return 0
