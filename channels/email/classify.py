"""Classify an inbound mail: customer, auto_reply, bounce, list or spam_or_malformed.

Every class comes with a reason a person can read ("Auto-Submitted: auto-replied").
Only a plain ``customer`` mail may get an automatic reply. The checks, in order:

1. delivery-status reports (RFC 3464) and legacy bounces -> ``bounce``;
2. read receipts (RFC 8098 MDN) and feedback reports (ARF) -> ``auto_reply``;
3. RFC 3834 ``Auto-Submitted`` other than ``no``, ``X-Autoreply``, ``X-Autorespond``,
   ``X-Auto-Response-Suppress``, out-of-office subjects -> ``auto_reply``;
4. sent from one of our own addresses -> ``auto_reply`` (a loop);
5. ``List-Id``, ``List-Unsubscribe``, ``Precedence: bulk|junk|list`` -> ``list``, then
   ``X-Loop`` -> ``auto_reply``;
6. mailer-daemon/postmaster/no-reply senders and the null Return-Path -> ``auto_reply``;
7. a spam verdict from an upstream filter, or the GTUBE test string -> ``spam_or_malformed``;
8. no usable From address -> ``spam_or_malformed``.

(Zammad's auto-response and out-of-office filters and Zulip's email gateway were
read for the list; nothing is copied from them.)
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from email.message import Message

from channels.email.bounces import parse_dsn, parse_legacy_bounce
from channels.email.headers import raw_value
from channels.email.parsed import BounceReport, MailClass

_AUTOMATED_LOCAL = re.compile(
    r"^(mailer-daemon|mailerdaemon|postmaster|no-?reply|do-?not-?reply|ne-?pas-?repondre|"
    r"noreponse|bounces?|mail-?daemon)([+._-].*)?$",
    re.IGNORECASE,
)
_BOUNCE_SENDER = re.compile(r"^(mailer-daemon|mailerdaemon|post_?master|mail-?daemon)([+._-].*)?$", re.I)
_BOUNCE_BODY = re.compile(
    r"(could not be delivered|undeliverable|delivery (to the following recipients? )?failed|"
    r"permanent(ly)? (error|fatal)|no such user|user unknown|mailbox (unavailable|full)|"
    r"requested action not taken|invalid (user|recipient|address)|\b[45]\.\d{1,3}\.\d{1,3}\b)",
    re.IGNORECASE,
)
_BOUNCE_SUBJECT = re.compile(
    r"(undeliver|undelivered|delivery (status notification|failure|has failed|delayed|problem)|"
    r"mail delivery (failed|failure|subsystem)|returned mail|failure notice|non[- ]?remis|"
    r"non distribuable|échec de (la )?(remise|distribution)|could not be delivered|"
    r"message not delivered|nondeliverable|delivery notification|returned to sender|"
    r"warning: could not send|mail system error|mail failure|mail failed|delayed mail|"
    r"returning to sender|still being retried)",
    re.IGNORECASE,
)
_AUTO_REPLY_SUBJECT = re.compile(
    r"^\s*(auto(matic)?[ -]?(reply|response|respons)|autorespons|out of (the )?office|"
    r"réponse automatique|reponse automatique|message d'absence|"
    r"abwesenheitsnotiz|automatische antwort|respuesta automática|on vacation|vacation reply|away until)",
    re.IGNORECASE,
)
_GTUBE = "XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X"


@dataclass(frozen=True, slots=True)
class Verdict:
    mail_class: MailClass
    reason: str
    bounce: BounceReport | None = None

    @property
    def automatic_reply_allowed(self) -> bool:
        return self.mail_class is MailClass.CUSTOMER


def _report_type(msg: Message) -> str:
    if msg.get_content_type() != "multipart/report":
        return ""
    try:
        value = msg.get_param("report-type")
    except Exception:
        return ""
    return value.strip().lower() if isinstance(value, str) else ""


def _has_part(msg: Message, content_type: str) -> bool:
    return any(p.get_content_type() == content_type for p in msg.walk())


def _local_part(address: str) -> str:
    return address.rpartition("@")[0] if "@" in address else address


def _header(msg: Message, name: str) -> str | None:
    value = raw_value(msg, name)
    return value.strip() if value is not None else None


def classify(
    msg: Message,
    *,
    sender: str | None,
    subject: str,
    body: str,
    own_addresses: Collection[str] = (),
) -> Verdict:
    """The class of an already-parsed message (``body`` is its text, for legacy bounces)."""
    report_type = _report_type(msg)
    # 1. Bounces.
    if report_type == "delivery-status" or _has_part(msg, "message/delivery-status"):
        report = parse_dsn(msg) or parse_legacy_bounce(msg, body, subject=subject)
        return Verdict(MailClass.BOUNCE, _bounce_reason(report, "delivery-status report (RFC 3464)"), report)
    return_path = _header(msg, "Return-Path")
    null_sender = return_path is not None and return_path.replace(" ", "") in ("<>", "")
    local = _local_part(sender or "")
    bounce_sender = bool(_BOUNCE_SENDER.match(local)) or null_sender or not sender
    if bounce_sender and (_BOUNCE_SUBJECT.search(subject) or _BOUNCE_BODY.search(body[:5000])):
        report = parse_legacy_bounce(msg, body, subject=subject)
        return Verdict(MailClass.BOUNCE, _bounce_reason(report, "plain-text bounce"), report)
    # 2. Read receipts and feedback reports.
    if report_type == "disposition-notification" or _has_part(msg, "message/disposition-notification"):
        return Verdict(MailClass.AUTO_REPLY, "read receipt (MDN, multipart/report)")
    if (
        report_type == "feedback-report"
        or _has_part(msg, "message/feedback-report")
        or re.match(r"\s*complaint about message from", subject, re.IGNORECASE)
    ):
        return Verdict(MailClass.AUTO_REPLY, "abuse feedback report (ARF)")
    # 3. Automatic replies (RFC 3834 and vendor headers).
    auto = _header(msg, "Auto-Submitted")
    if auto is not None and auto.split(";")[0].strip().lower() not in ("no", ""):
        return Verdict(MailClass.AUTO_REPLY, f"Auto-Submitted: {auto[:60]}")
    for name in ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress", "X-Autogenerated"):
        value = _header(msg, name)
        if value is not None:
            return Verdict(MailClass.AUTO_REPLY, f"{name}: {value[:60]}".rstrip(": "))
    if _AUTO_REPLY_SUBJECT.search(subject):
        return Verdict(MailClass.AUTO_REPLY, f"automatic-reply subject: {subject[:60]!r}")
    # 4. Ourselves.
    own = {a.strip().lower() for a in own_addresses}
    if sender and _base(sender) in {_base(a) for a in own}:
        return Verdict(MailClass.AUTO_REPLY, f"sent from our own address {sender}")
    # 5. Lists and bulk mail.
    for name in ("List-Id", "List-Unsubscribe"):
        value = _header(msg, name)
        if value is not None:
            return Verdict(MailClass.LIST, f"{name} header present")
    precedence = (_header(msg, "Precedence") or "").lower()
    if precedence in ("bulk", "junk", "list"):
        return Verdict(MailClass.LIST, f"Precedence: {precedence}")
    loop = _header(msg, "X-Loop")
    if loop is not None:
        return Verdict(MailClass.AUTO_REPLY, f"X-Loop: {loop[:60]}")
    # 6. Automated senders.
    if sender and _AUTOMATED_LOCAL.match(local):
        return Verdict(MailClass.AUTO_REPLY, f"automated sender address {sender}")
    if null_sender:
        return Verdict(MailClass.AUTO_REPLY, "null Return-Path (<>): sent by a machine")
    # 7. Spam verdicts.
    flag = (_header(msg, "X-Spam-Flag") or "").lower()
    status = (_header(msg, "X-Spam-Status") or "").lower()
    if flag.startswith("yes") or status.startswith("yes"):
        return Verdict(
            MailClass.SPAM_OR_MALFORMED, "marked as spam by an upstream filter (X-Spam-Flag/Status)"
        )
    if _GTUBE in body:
        return Verdict(MailClass.SPAM_OR_MALFORMED, "GTUBE spam test string in the body")
    # 8. Nobody to answer.
    if not sender or "@" not in sender:
        return Verdict(MailClass.SPAM_OR_MALFORMED, "no usable sender address in From")
    return Verdict(MailClass.CUSTOMER, "no automatic, list or bounce markers")


def _base(address: str) -> str:
    """``support+T@Example.org`` -> ``support@example.org``."""
    local, _, domain = address.strip().lower().rpartition("@")
    return f"{local.split('+', 1)[0]}@{domain}"


def _bounce_reason(report: BounceReport, what: str) -> str:
    if report.permanent:
        codes = sorted({r.status for r in report.recipients if r.permanent and r.status})
        return f"{what}: permanent failure {', '.join(codes) or '(no status code)'}"
    if report.temporary:
        codes = sorted({r.status for r in report.recipients if r.temporary and r.status})
        return f"{what}: delivery delayed {', '.join(codes)}".rstrip()
    if report.recipients:
        return f"{what}: action {report.recipients[0].action or 'unknown'}"
    return f"{what}: no recipient status found"
