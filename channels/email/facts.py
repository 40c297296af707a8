"""The parser adapted to the core's port: ``channels.email.parse.parse_message``'s
:class:`ParsedMail` → :class:`gateway.mail.contracts.MailFacts`."""

from __future__ import annotations

from collections.abc import Sequence

from channels.email.parse import parse_message
from channels.email.parsed import Address, ParsedMail
from gateway.mail.contracts import BounceFacts, MailAddress, MailFacts, MailFile


def _addr(a: Address) -> MailAddress:
    return MailAddress(a.address, a.name)


def to_facts(parsed: ParsedMail) -> MailFacts:
    bounces: tuple[BounceFacts, ...] = ()
    if parsed.bounce is not None:
        report = parsed.bounce
        bounces = tuple(
            BounceFacts(r.recipient, r.status, r.action, r.diagnostic, report.original_message_id)
            for r in report.recipients
        )
    return MailFacts(
        mail_class=str(parsed.mail_class.value),
        class_reason=parsed.class_reason,
        message_id=parsed.message_id,
        in_reply_to=parsed.in_reply_to,
        references=parsed.references,
        sender=_addr(parsed.sender) if parsed.sender else None,
        reply_to=tuple(_addr(a) for a in parsed.reply_to),
        to=tuple(_addr(a) for a in parsed.to),
        cc=tuple(_addr(a) for a in parsed.cc),
        subject=parsed.subject,
        subject_token=parsed.subject_token,
        plus_tokens=parsed.plus_tokens,
        return_path=parsed.return_path,
        automatic_reply_allowed=parsed.automatic_reply_allowed,
        date=parsed.date,
        text=parsed.text,
        quoted=parsed.quoted,
        signature=parsed.signature,
        full_text=parsed.full_text,
        html=parsed.html,
        html_sanitised=parsed.html_sanitised,
        attachments=tuple(
            MailFile(a.filename, a.content_type, a.data, a.content_id, a.inline) for a in parsed.attachments
        ),
        omitted_attachments=parsed.omitted_count,
        omitted_summary=parsed.omitted_summary,
        bounces=bounces,
        language=parsed.language,
        problems=parsed.problems,
    )


def parse_to_facts(raw: bytes, own_addresses: Sequence[str]) -> MailFacts:
    """The :class:`gateway.mail.contracts.MailParser` the email channel plugs in."""
    return to_facts(parse_message(raw, own_addresses=tuple(own_addresses)))
