"""``gateway.db.rows.build``: a row object made without attribute events is stored,
read and updated as one made by its constructor (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select

from gateway.config import Settings
from gateway.db.engine import make_engine, make_session_factory
from gateway.db.rows import build
from gateway.db.tables import Conversation, Customer, IdentityRow, Message

NOW = datetime(2026, 12, 3, 9, 30, tzinfo=UTC)


async def test_a_built_row_is_inserted_and_updated_like_a_constructed_one(migrated: Settings) -> None:
    engine = make_engine(migrated.database_url)
    sessions = make_session_factory(engine)
    try:
        async with sessions() as session, session.begin():
            customer = Customer(display_name="Ada", lang="en", created_at=NOW)
            session.add(customer)
            await session.flush()
            ident = build(IdentityRow, customer_id=customer.id, channel="webchat", address="v-1",
                          display_name="Ada")
            session.add(ident)
            await session.flush()
            conv = build(Conversation, customer_id=customer.id, identity_id=ident.id, channel="webchat",
                         thread_key="t-1", state="bot", lang="fr", assignee_id=None,
                         created_at=NOW, updated_at=NOW)
            session.add(conv)
            await session.flush()
            values = dict(conversation_id=conv.id, channel="webchat", external_id="e-1", direction="in",
                          author_kind="customer", author_id=None, author_name="Ada", kind="message",
                          text="Bonjour", html=None, quick_replies=[], meta={"k": 1}, delivery=None,
                          outbound_key=None, created_at=NOW)
            built, made = build(Message, **values), Message(**{**values, "external_id": "e-2"})
            session.add_all([built, made])
            await session.flush()
            assert built.id is not None and made.id == built.id + 1
            built.text = "Bonjour, une facture"  # a change after build is recorded
        async with sessions() as session:
            rows = (await session.execute(select(Message).order_by(Message.id))).scalars().all()
            assert [(m.text, m.meta, m.author_name, m.created_at) for m in rows] == [
                ("Bonjour, une facture", {"k": 1}, "Ada", NOW), ("Bonjour", {"k": 1}, "Ada", NOW)]
            stored = await session.get(Conversation, conv.id)
            assert stored is not None and (stored.thread_key, stored.lang) == ("t-1", "fr")
    finally:
        await engine.dispose()
