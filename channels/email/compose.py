"""Building one outbound mail: headers that thread and stop loops, text/plain
with an HTML alternative, quick replies as numbered lines, the quoted history."""

from __future__ import annotations

import html
import re
from datetime import datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr

from channels.email import wire
from gateway.mail.outbound import OutboundPlan
from gateway.models import Outbound

_BOLD = re.compile(r"\*\*(.+?)\*\*")

_TEXT = {
    "reply_number": {
        "en": "Reply with the number of your choice:",
        "fr": "Répondez avec le numéro de votre choix :",
    },
    "person": {
        "en": "This is an automatic answer. Reply to this email to reach a person from our team.",
        "fr": "Ceci est une réponse automatique. Répondez à ce message pour joindre "
        "une personne de notre équipe.",
    },
    "wrote": {"en": "On {date}, {author} wrote:", "fr": "Le {date}, {author} a écrit :"},
}


def _t(key: str, lang: str) -> str:
    table = _TEXT[key]
    return table.get(lang, table["en"])


def text_body(outbound: Outbound, plan: OutboundPlan) -> str:
    parts = [_BOLD.sub(r"\1", outbound.text).strip()]
    if outbound.quick_replies:
        lines = "\n".join(f"{n}. {q.label}" for n, q in enumerate(outbound.quick_replies, start=1))
        parts.append(f"{_t('reply_number', plan.lang)}\n{lines}")
    if plan.automatic:
        parts.append(_t("person", plan.lang))
    body = "\n\n".join(parts)
    if plan.quoted is not None and plan.quoted.text.strip():
        when = plan.quoted.date.strftime("%Y-%m-%d %H:%M")
        head = _t("wrote", plan.lang).format(date=when, author=plan.quoted.author)
        quoted = "\n".join(f"> {line}" if line else ">" for line in plan.quoted.text.strip().splitlines())
        body = f"{body}\n\n{head}\n{quoted}"
    return body + "\n"


def _html_paragraphs(text: str) -> str:
    out = []
    for para in re.split(r"\n\s*\n", text.strip()):
        escaped = html.escape(para)
        escaped = _BOLD.sub(r"<strong>\1</strong>", escaped).replace("\n", "<br>\n")
        out.append(f"<p>{escaped}</p>")
    return "\n".join(out)


def html_body(outbound: Outbound, plan: OutboundPlan) -> str:
    parts = [_html_paragraphs(outbound.text)]
    if outbound.quick_replies:
        items = "".join(f"<li>{html.escape(q.label)}</li>" for q in outbound.quick_replies)
        parts.append(f"<p>{html.escape(_t('reply_number', plan.lang))}</p><ol>{items}</ol>")
    if plan.automatic:
        parts.append(f"<p><small>{html.escape(_t('person', plan.lang))}</small></p>")
    if plan.quoted is not None and plan.quoted.text.strip():
        when = plan.quoted.date.strftime("%Y-%m-%d %H:%M")
        head = html.escape(_t("wrote", plan.lang).format(date=when, author=plan.quoted.author))
        parts.append(f"<p>{head}</p><blockquote>{_html_paragraphs(plan.quoted.text)}</blockquote>")
    return "<!doctype html><html><body>\n" + "\n".join(parts) + "\n</body></html>\n"


def compose(outbound: Outbound, plan: OutboundPlan, now: datetime) -> EmailMessage:
    msg = EmailMessage(policy=SMTP)
    msg["Message-ID"] = f"<{plan.rfc_message_id}>"
    msg["Date"] = format_datetime(now)
    msg["From"] = formataddr((plan.from_name, plan.from_address))
    msg["To"] = plan.to
    cc = _cc(plan)
    if cc:
        msg["Cc"] = ", ".join(cc)
    msg["Reply-To"] = plan.reply_to
    msg["Subject"] = plan.subject
    if plan.in_reply_to:
        msg["In-Reply-To"] = f"<{plan.in_reply_to}>"
    if plan.references:
        msg["References"] = " ".join(f"<{r}>" for r in plan.references)
    for name, value in _loop_headers(plan):
        msg[name] = value
    msg.set_content(text_body(outbound, plan))
    msg.add_alternative(html_body(outbound, plan), subtype="html")
    return msg


def render(outbound: Outbound, plan: OutboundPlan, now: datetime) -> bytes:
    """The mail as the relay receives it: written directly (:mod:`channels.email.wire`),
    or by the stdlib (:func:`compose`) when an address or a Message-ID is not ASCII."""
    cc = _cc(plan)
    ids = (plan.rfc_message_id, plan.in_reply_to or "", *plan.references)
    if not wire.ascii_only(plan.from_address, plan.to, plan.reply_to, *cc, *ids):
        return compose(outbound, plan, now).as_bytes()
    headers = [
        f"Message-ID: <{plan.rfc_message_id}>",
        f"Date: {format_datetime(now)}",
        f"From: {wire.mailbox(plan.from_name, plan.from_address)}",
        f"To: {plan.to}",
    ]
    if cc:
        headers.append(wire.words("Cc", cc, ", "))
    headers += [f"Reply-To: {plan.reply_to}", wire.unstructured("Subject", plan.subject)]
    if plan.in_reply_to:
        headers.append(f"In-Reply-To: <{plan.in_reply_to}>")
    if plan.references:
        headers.append(wire.words("References", (f"<{r}>" for r in plan.references)))
    headers += [f"{name}: {value}" for name, value in _loop_headers(plan)]
    return wire.alternative(headers, text_body(outbound, plan), html_body(outbound, plan))


def _cc(plan: OutboundPlan) -> list[str]:
    return [a for a, kind in plan.kinds.items() if kind == "cc" and a in plan.pending]


def _loop_headers(plan: OutboundPlan) -> list[tuple[str, str]]:
    """RFC 3834: nobody's auto-responder answers what a machine of ours wrote (the
    bot's answers are ``auto-replied``, other automatic mail ``auto-generated``)."""
    if not plan.auto_submitted:
        return []
    return [("Auto-Submitted", plan.auto_submitted), ("X-Auto-Response-Suppress", "All")]
