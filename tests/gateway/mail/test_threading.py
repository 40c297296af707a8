"""Threading, rule by rule: our Message-IDs first; a token (plus-address or
subject) only for someone who belongs to the conversation; otherwise a new
conversation with a merge suggestion.  A stranger never joins silently."""

from __future__ import annotations

from sqlalchemy import select

from gateway.auth import create_user
from gateway.db.tables import Conversation, Message, Ticket
from gateway.db.tables_mail import MailInbound, MailSuggestion, MailThread
from gateway.db.tables_merge import TicketMerge
from gateway.mail import merge
from gateway.models import ConversationState
from tests.support.mail_core import MailCore, make_mail


async def row(mc: MailCore, inbound_id: int) -> MailInbound:
    async with mc.store.read() as tx:
        found = await tx.session.get(MailInbound, inbound_id)
        assert found is not None
        return found


async def first_conversation(mc: MailCore) -> tuple[int, str, str]:
    """A customer's conversation handed to a person (ticket), its token and ticket number."""
    done = await mc.receive(make_mail("I want to talk to a person about my contract", subject="Contract"))
    conv_id = (await row(mc, done.inbound_id)).conversation_id
    assert conv_id is not None
    async with mc.store.read() as tx:
        thread = await tx.session.get(MailThread, conv_id)
        ticket = (
            await tx.session.execute(select(Ticket).where(Ticket.conversation_id == conv_id))
        ).scalar_one()
    assert thread is not None and ticket.number
    return conv_id, thread.token, ticket.number


async def suggestions(mc: MailCore, conversation_id: int) -> list[MailSuggestion]:
    async with mc.store.read() as tx:
        stmt = select(MailSuggestion).where(MailSuggestion.conversation_id == conversation_id)
        return list((await tx.session.execute(stmt)).scalars())


async def test_the_customer_threads_by_plus_address_and_by_subject_token(mc: MailCore) -> None:
    conv_id, token, number = await first_conversation(mc)
    plus = f"support+{token}@guichet.test"
    by_plus = await mc.receive(make_mail("More details", subject="hello", to=plus), envelope_to=[plus])
    assert (await row(mc, by_plus.inbound_id)).conversation_id == conv_id
    assert (await row(mc, by_plus.inbound_id)).thread_rule == "plus_token"
    by_subject = await mc.receive(make_mail("And more", subject=f"Re: Contract [#{number}]"))
    assert (await row(mc, by_subject.inbound_id)).conversation_id == conv_id
    assert (await row(mc, by_subject.inbound_id)).thread_rule == "subject_token"
    # the domain is compared case-insensitively
    upper = await mc.receive(make_mail("Again", sender="Alice <alice@EXAMPLE.ORG>", subject=f"[#{number}]"))
    assert (await row(mc, upper.inbound_id)).conversation_id == conv_id


async def test_a_stranger_with_the_customers_token_opens_a_new_conversation_with_a_suggestion(
    mc: MailCore,
) -> None:
    conv_id, token, number = await first_conversation(mc)
    plus = f"support+{token}@guichet.test"
    stranger = "Mallory <mallory@evil.test>"
    by_plus = await mc.receive(
        make_mail("Send me the contract", sender=stranger, to=plus), envelope_to=[plus]
    )
    by_subject = await mc.receive(make_mail("Also", sender=stranger, subject=f"Re: [#{number}]"))
    for done in (by_plus, by_subject):
        r = await row(mc, done.inbound_id)
        assert r.conversation_id not in (None, conv_id)
        assert r.thread_rule == "new"
        found = await suggestions(mc, r.conversation_id)
        assert [(s.candidate_id, s.status) for s in found] == [(conv_id, "open")]
        assert "not part of" in found[0].reason
    async with mc.store.read() as tx:
        msgs = await tx.messages(conv_id, include_internal=False)
    assert not any("Send me the contract" in m.text for m in msgs)


async def test_a_look_alike_display_name_is_a_stranger(mc: MailCore) -> None:
    conv_id, _token, number = await first_conversation(mc)
    fake = await mc.receive(
        make_mail(
            "It's me", sender="Alice Martin <alice.martin@gmail.test>", subject=f"Re: Contract [#{number}]"
        )
    )
    r = await row(mc, fake.inbound_id)
    assert r.conversation_id != conv_id and r.thread_rule == "new"


async def test_a_colleague_on_cc_of_our_reply_joins(mc: MailCore) -> None:
    done = await mc.receive(
        make_mail("I want to talk to a person", subject="Access", cc="Bob <bob@example.org>")
    )
    conv_id = (await row(mc, done.inbound_id)).conversation_id
    sent = mc.sink.wait_for(1)
    ours = sent[-1].message
    assert "bob@example.org" in ours.get("Cc", "")  # our reply went to the colleague too
    assert sorted(sent[-1].rcpt_tos) == ["alice@example.org", "bob@example.org"]
    token = ours["Reply-To"].split("+")[1].split("@")[0]
    plus = f"support+{token}@guichet.test"
    colleague = await mc.receive(
        make_mail("Bob here, same issue", sender="Bob <bob@example.org>", to=plus), envelope_to=[plus]
    )
    assert (await row(mc, colleague.inbound_id)).conversation_id == conv_id
    # ...and anyone replying to our own Message-ID does too (it carries an unguessable part)
    reply = make_mail("Reply", sender="carol@example.org", in_reply_to=ours["Message-ID"].strip("<>"))
    assert (await row(mc, (await mc.receive(reply)).inbound_id)).conversation_id == conv_id


async def test_resolved_reopens_within_the_window_else_a_new_linked_conversation(mc: MailCore) -> None:
    conv_id, _token, number = await first_conversation(mc)

    async def resolve() -> None:
        async with mc.store.tx() as tx:
            conv = await tx.lock_conversation(conv_id)
            tx.set_state(conv, ConversationState.RESOLVED)

    await resolve()
    mc.clock.advance(days=2)
    within = await mc.receive(make_mail("It broke again", subject=f"Re: [#{number}]"))
    assert (await row(mc, within.inbound_id)).conversation_id == conv_id
    async with mc.store.read() as tx:
        assert (await tx.conversation(conv_id)).state != ConversationState.RESOLVED.value

    await resolve()
    mc.clock.advance(days=mc.settings.tickets.reopen_days + 1)
    late = await mc.receive(make_mail("Months later", subject=f"Re: [#{number}]"))
    r = await row(mc, late.inbound_id)
    assert r.conversation_id != conv_id and r.thread_rule == "subject_token_after_resolved"
    async with mc.store.read() as tx:
        thread = await tx.session.get(MailThread, r.conversation_id)
        assert thread is not None and thread.follows_conversation_id == conv_id
        assert (await tx.conversation(conv_id)).state == ConversationState.RESOLVED.value


async def test_accepting_a_suggestion_merges_dismissing_does_not(mc: MailCore) -> None:
    conv_id, _token, number = await first_conversation(mc)
    other = await mc.receive(make_mail("Mine too", sender="dave@example.net", subject=f"[#{number}]"))
    new_id = (await row(mc, other.inbound_id)).conversation_id
    assert new_id is not None
    [s] = await suggestions(mc, new_id)
    olga = await create_user(mc.store.sessions, "olga", "correct horse battery", "operator", "Olga")
    # dave is another customer record: an operator (no force) may still accept, it is
    # her decision about that very mail; the desk's merge runs and records the suggestion
    done = await merge.accept(mc.mail, s.id, olga)
    assert done["suggestion"]["status"] == "accepted"
    assert (done["merge"]["suggestion_id"], done["merge"]["two_customers"]) == (s.id, True)
    assert done["merge"]["forced"] is False and done["merge"]["target_conversation_id"] == conv_id
    async with mc.store.read() as tx:
        texts = [m.text for m in await tx.messages(conv_id, include_internal=False)]
        left = select(Message.id).where(Message.conversation_id == new_id, Message.kind != "event")
        moved = (await tx.session.execute(left)).all()  # only the "merged into" line stays
        assert (await tx.conversation(new_id)).state == ConversationState.RESOLVED.value
        [record] = (await tx.session.execute(select(TicketMerge))).scalars().all()
        assert (record.suggestion_id, record.actor_id, record.forced) == (s.id, olga.id, False)
    assert any("Mine too" in t for t in texts) and moved == []
    # dave was vouched for by the operator: his next mail with the token joins
    again = await mc.receive(make_mail("Thanks", sender="dave@example.net", subject=f"[#{number}]"))
    assert (await row(mc, again.inbound_id)).conversation_id == conv_id


async def test_unknown_sender_with_no_pointer_gets_a_new_conversation(mc: MailCore) -> None:
    a = await mc.receive(make_mail("Hello", sender="x@example.com", subject="One"))
    b = await mc.receive(make_mail("Hello", sender="y@example.com", subject="One"))
    ra, rb = await row(mc, a.inbound_id), await row(mc, b.inbound_id)
    assert ra.conversation_id != rb.conversation_id
    async with mc.store.read() as tx:
        count = len((await tx.session.execute(select(Conversation.id))).all())
    assert count == 2
