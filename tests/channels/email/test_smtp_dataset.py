"""Every message of the shared email corpus through the running SMTP listener:
no crash, each acknowledged with 250, then stored as a message or quarantined
with a readable reason; auto-replies and bounces classified as such."""

from __future__ import annotations

import csv
import os
import re
from collections import Counter

import aiosmtplib
import pytest
from sqlalchemy import select

from gateway.db.tables_mail import MailInbound
from tests.channels.email.smtp_fixtures import Listening, listening, sink  # noqa: F401
from tests.support.datasets import dataset_dir

DATASET = dataset_dir() / "email"
pytestmark = [
    pytest.mark.parametrize("migrated", ["sqlite"], indirect=True),
    # In CI a missing corpus fails (the test then finds no file), never skips.
    pytest.mark.skipif(
        not (DATASET / "manifest.csv").exists() and os.environ.get("CI") != "true",
        reason="the shared email corpus is not here",
    ),
]


def crlf(raw: bytes) -> bytes:
    """SMTP carries CRLF lines (the corpus has LF, CRLF and bare-CR files)."""
    return re.sub(rb"\r\n|\r|\n", b"\r\n", raw)


async def test_every_corpus_message_through_the_listener(listening: Listening) -> None:  # noqa: F811
    mc = listening.mc
    mc.settings.email.rate_limit_messages = 10_000
    with (DATASET / "manifest.csv").open() as fh:
        manifest = list(csv.DictReader(fh))
    assert len(manifest) == 233
    ids: dict[str, str] = {}
    client = aiosmtplib.SMTP(hostname="127.0.0.1", port=listening.port, timeout=30, start_tls=False)
    await client.connect()
    try:
        for n, entry in enumerate(manifest):
            raw = crlf((DATASET / entry["file"]).read_bytes())
            refused, reply = await client.sendmail("relay@example.net", ["support@guichet.test"], raw)
            assert refused == {} and reply.startswith("2.0.0 OK: stored as mail"), (entry["file"], reply)
            ids[reply.rsplit(" ", 1)[1]] = entry["file"]
            await client.rset()
            if n % 50 == 49:
                await mc.drain()
    finally:
        await client.quit()
    await mc.drain()
    async with mc.store.read() as tx:
        rows = list((await tx.session.execute(select(MailInbound))).scalars())
    by_file = {ids[str(r.id)]: r for r in rows}
    kinds = {e["file"]: e["kind"] for e in manifest}
    problems = [f for f, r in by_file.items() if r.status not in ("processed", "quarantined")]
    assert len(rows) == len(set(ids)) and not problems, problems
    for f, r in by_file.items():
        assert r.mail_class or r.quarantine_reason, f
        if r.status == "quarantined":
            assert r.quarantine_reason.strip(), f
        else:
            assert r.conversation_id is not None, f
    classes = Counter(r.mail_class for r in rows)
    print("classes:", dict(classes), "quarantined:", sum(r.status == "quarantined" for r in rows))
    auto = [f for f, k in kinds.items() if k == "auto_reply" and f in by_file]
    assert all(by_file[f].mail_class == "auto_reply" for f in auto), [
        (f, by_file[f].mail_class, by_file[f].class_reason)
        for f in auto
        if by_file[f].mail_class != "auto_reply"
    ]
    bounces = [f for f, k in kinds.items() if k == "bounce_dsn" and f in by_file]
    misread = [(f, by_file[f].mail_class) for f in bounces if by_file[f].mail_class != "bounce"]
    assert not misread, misread
    # nothing was answered automatically: every bounce is about mail we never sent
    assert all(by_file[f].status == "quarantined" for f in bounces)
