"""Plugging the mail room into the application (called by the composition root
when ``[email] enabled``): the service, its jobs, the channel's binding, the
inspection API and the quarantine page.  Email's stricter answer threshold is the
router's (``Router(channel_thresholds=...)``, set by the composition root)."""

from __future__ import annotations

from collections.abc import Mapping

from aiohttp import web

from gateway.flow.jobs import JobRunner
from gateway.flow.store import SqlStore
from gateway.mail import smtp_pause
from gateway.mail.ingest import INGEST_JOB
from gateway.mail.processing import IngestJob
from gateway.mail.service import MailService
from gateway.protocols import Channel
from gateway.web import keys


def setup_mail(
    app: web.Application,
    store: SqlStore,
    runner: JobRunner,
    channels: Mapping[str, Channel],
) -> MailService:
    settings = store.settings
    mail = MailService(store, settings, store.clock, app[keys.SECRET])
    for channel in channels.values():
        bind = getattr(channel, "bind_mail", None)
        if bind is not None:
            bind(mail)
    job = IngestJob(mail)
    runner.handlers[INGEST_JOB] = job.handle
    # on the fast path, processing waits (in memory) for a pause in the SMTP sessions
    runner.pace_fast(INGEST_JOB, concurrency=smtp_pause.CONCURRENCY, gate=mail.smtp.gate)
    runner.dead_handlers[INGEST_JOB] = job.on_dead
    app[keys.MAIL] = mail
    from gateway.web.mail_api import setup_mail_api
    from gateway.web.quarantine_admin import setup_quarantine_admin

    setup_mail_api(app)
    setup_quarantine_admin(app)
    return mail
