"""The outbound mail written directly as bytes (channels/email/wire.py) is what the
stdlib would write, read back with ``policy.default``: the same headers (names and
subjects in any script, long References folded), the same text and HTML, the
RFC 3834 header by author, CRLF line ends, short header lines, no defects."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest

from channels.email.compose import compose, html_body, render, text_body
from gateway.mail.plan import OutboundPlan, QuotedMail, auto_submitted
from gateway.models import AuthorKind, Identity, Outbound, QuickReply

NOW = datetime(2026, 12, 3, 16, 45, 12, tzinfo=UTC)
REFS = tuple(f"ref{n}.{'x' * 30}@mail.example.org" for n in range(20))


def outbound(author: AuthorKind, text: str, quick: tuple[QuickReply, ...] = ()) -> Outbound:
    return Outbound(
        message_id=7, conversation_id=3, channel="email", thread_key="mail-1",
        recipient=Identity("email", "alice@example.org", "Alice"), text=text, author=author,
        quick_replies=quick, idempotency_key="k7",
    )


def plan(author: AuthorKind, *, subject: str, from_name: str, quoted: QuotedMail | None = None,
         cc: tuple[str, ...] = (), refs: tuple[str, ...] = REFS) -> OutboundPlan:
    return OutboundPlan(
        rfc_message_id="k7.0123456789abcdef@guichet.test", from_address="support@guichet.test",
        from_name=from_name, reply_to="support+5f3a9c2e1b7d4e60@guichet.test", to="alice@example.org",
        pending=("alice@example.org", *cc), subject=subject, in_reply_to=refs[-1] if refs else None,
        references=refs, automatic=author is AuthorKind.BOT, lang="fr", quoted=quoted,
        kinds={"alice@example.org": "to", **{a: "cc" for a in cc}},
        auto_submitted=auto_submitted(author),
    )


CASES = [
    pytest.param(
        outbound(AuthorKind.BOT, "Ouvrez la page de connexion, cliquez sur **Mot de passe oublié ?** — "
                 "puis suivez le lien. " + "Très long paragraphe sans retour à la ligne. " * 40,
                 (QuickReply("yes", "Oui, c'est réglé"), QuickReply("human", "Parler à une personne"))),
        plan(AuthorKind.BOT, subject="Re: Problème de facturation très urgent concernant la facture "
             "n° 2026-000451 du mois de novembre [#G-1042]", from_name="Équipe d'assistance « Guichet »",
             quoted=QuotedMail("Zoë Ångström", NOW, "Bonjour,\n\nma facture est fausse : 129,00 €.\n"),
             cc=("bob@example.org", "carol.with.a.rather.long.name@subsidiary.example.com",
                 "dave@example.net")),
        id="french-bot-reply",
    ),
    pytest.param(
        outbound(AuthorKind.OPERATOR, "Hello Alice,\n\nthe refund went out today.\n\nBest,\nSam"),
        plan(AuthorKind.OPERATOR, subject="Re: Invoice [#G-7]", from_name="ACME Support, Inc.", refs=()),
        id="ascii-operator-reply",
    ),
    pytest.param(
        outbound(AuthorKind.SYSTEM, "您对我们的服务满意吗？ https://help.example.org/csat/abc =?utf-8?q?x?="),
        plan(AuthorKind.SYSTEM, subject="=?utf-8?q?not-an-encoded-word?= 满意度调查 [#G-9]",
             from_name="Support", refs=REFS[:1]),
        id="survey-any-script",
    ),
]


def parsed(raw: bytes) -> EmailMessage:
    msg = message_from_bytes(raw, policy=policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


@pytest.mark.parametrize(("out", "the_plan"), CASES)
def test_the_mail_written_directly_reads_back_as_the_stdlib_mail(
    out: Outbound, the_plan: OutboundPlan
) -> None:
    raw = render(out, the_plan, NOW)
    ours, stdlib = parsed(raw), parsed(compose(out, the_plan, NOW).as_bytes())
    for name in ("Message-ID", "Date", "From", "To", "Cc", "Reply-To", "In-Reply-To", "References",
                 "Auto-Submitted", "X-Auto-Response-Suppress"):
        assert ours[name] == stdlib[name], name
    assert str(ours["From"].addresses[0].display_name) == the_plan.from_name
    assert ours["Subject"] == the_plan.subject
    refs = ours["References"].split() if the_plan.references else []
    assert refs == [f"<{r}>" for r in the_plan.references]
    for msg in (ours, stdlib):  # the same text and HTML as meant (lines end in CRLF on the wire)
        plain, html = msg.get_body(("plain",)), msg.get_body(("html",))
        assert plain is not None and html is not None
        assert plain.get_content().replace("\r\n", "\n") == text_body(out, the_plan)
        assert html.get_content().replace("\r\n", "\n") == html_body(out, the_plan)
    assert not ours.defects and all(not part.defects for part in ours.walk())
    head, _, body = raw.partition(b"\r\n\r\n")
    assert b"\n" not in raw.replace(b"\r\n", b"")  # CRLF only, no bare LF or CR
    assert max(len(line) for line in head.split(b"\r\n")) <= 78
    assert max(len(line) for line in body.split(b"\r\n")) <= 998
    assert raw.isascii()  # 7bit on the wire: any relay takes it, 8BITMIME or not


def test_auto_submitted_says_who_wrote_it() -> None:
    """RFC 3834: the bot's answers are auto-replied, the survey auto-generated, a person's none."""
    seen = {}
    for case in CASES:
        out, the_plan = case.values
        assert isinstance(out, Outbound) and isinstance(the_plan, OutboundPlan)
        seen[out.author] = parsed(render(out, the_plan, NOW))["Auto-Submitted"]
    assert seen == {AuthorKind.BOT: "auto-replied", AuthorKind.OPERATOR: None,
                    AuthorKind.SYSTEM: "auto-generated"}


def test_a_non_ascii_address_or_message_id_is_left_to_the_stdlib() -> None:
    out = outbound(AuthorKind.OPERATOR, "Bonjour")
    the_plan = plan(AuthorKind.OPERATOR, subject="Re: x", from_name="S", refs=(), cc=("zoë@exemple.fr",))
    msg = parsed(render(out, the_plan, NOW))
    assert msg["Cc"] == "zoë@exemple.fr"
    the_plan = plan(AuthorKind.OPERATOR, subject="Re: x", from_name="S", refs=("réf-1@exemple.fr",))
    msg = parsed(render(out, the_plan, NOW))  # a customer's client wrote 8-bit in its Message-ID
    assert msg["In-Reply-To"] == "<réf-1@exemple.fr>"
