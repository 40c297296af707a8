"""The composition root: builds the aiohttp application from settings.

Every long-lived service is a ``cleanup_ctx`` entry, started in order and torn
down in reverse: database → retriever and index reloader → channels → job
workers.  Channels are loaded by name from ``channels.REGISTRY`` (import paths),
so the core never imports a channel module or SDK.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
from collections.abc import AsyncIterator, Iterable, Sequence

from aiohttp import web

from gateway.clock import Clock, SystemClock
from gateway.config import Settings
from gateway.db.engine import make_engine, make_session_factory
from gateway.db.migrate import upgrade_async
from gateway.flow.bus import InProcessEventBus
from gateway.flow.channel_context import ChannelContext
from gateway.flow.jobs import JobRunner
from gateway.flow.outbox import Outbox
from gateway.flow.router import Router
from gateway.flow.store import SqlStore
from gateway.protocols import Channel, Retriever
from gateway.secret import load_secret
from gateway.tickets.operators import SqlOperatorService
from gateway.web import keys
from gateway.web.health import setup_health

log = logging.getLogger(__name__)

DEFAULT_CHANNELS = ("webchat",)


def load_channel_factory(name: str) -> object:
    from channels import REGISTRY  # the registry holds import paths only

    try:
        target = REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown channel {name!r}; known: {', '.join(sorted(REGISTRY))}") from None
    module_name, _, attr = target.partition(":")
    return getattr(importlib.import_module(module_name), attr)


def build_retriever(settings: Settings) -> Retriever:
    from kb_index.embedder import make_embedder, make_term_encoder
    from kb_index.retriever import KBRetriever

    embedder = make_embedder(settings.kb.embedder, settings.kb.model, settings.kb.threads)
    return KBRetriever(settings.index_path, embedder, terms=make_term_encoder(settings.kb.term_bridge))


def create_app(
    settings: Settings,
    *,
    clock: Clock | None = None,
    retriever: Retriever | None = None,
    channel_names: Sequence[str] = DEFAULT_CHANNELS,
    extra_channels: Iterable[Channel] = (),
) -> web.Application:
    clock = clock or SystemClock()
    app = web.Application(client_max_size=1024**2)
    bus = InProcessEventBus()
    engine = make_engine(settings.database_url, echo=settings.database.echo)
    sessions = make_session_factory(engine)
    runner_box: list[JobRunner] = []
    store = SqlStore(sessions, clock, settings, bus, on_jobs=lambda: runner_box[0].wake())
    secret = load_secret(settings)

    app[keys.SETTINGS] = settings
    app[keys.CLOCK] = clock
    app[keys.BUS] = bus
    app[keys.SESSIONS] = sessions
    app[keys.SECRET] = secret
    app[keys.STORE] = store
    app[keys.OPERATORS] = SqlOperatorService(store)

    if settings.email.enabled and "email" not in channel_names:  # email (issue 8)
        channel_names = (*channel_names, "email")
    if settings.slack.enabled and "slack" not in channel_names:  # Slack (issue 11)
        channel_names = (*channel_names, "slack")
    ctx = ChannelContext(settings=settings, clock=clock, bus=bus, secret_key=secret, history=store.history)
    channels: dict[str, Channel] = {}
    for name in channel_names:
        factory = load_channel_factory(name)
        channel = factory(ctx)  # type: ignore[operator]
        channels[channel.name] = channel
    for channel in extra_channels:
        channels[channel.name] = channel
    for channel in channels.values():
        setup_routes = getattr(channel, "setup_routes", None)
        if setup_routes is not None:
            setup_routes(app)
    app[keys.CHANNELS] = channels

    the_retriever = retriever if retriever is not None else build_retriever(settings)
    app[keys.RETRIEVER] = the_retriever
    # email answers only above its own, stricter threshold (email.answer_threshold)
    router = Router(store, the_retriever, settings,
                    channel_thresholds={"email": settings.email.answer_threshold})
    outbox = Outbox(store, channels)
    runner = JobRunner(
        store,
        {"route": router.handle, "send": outbox.handle},
        settings.jobs,
        dead_handlers={"route": router.on_dead, "send": outbox.on_dead},
    )
    runner_box.append(runner)
    app[keys.RUNNER] = runner
    if settings.email.enabled:  # --- email (issue 8): mail room, its jobs, API and quarantine page ---
        from gateway.mail.wiring import setup_mail

        setup_mail(app, store, runner, channels)
    if "slack" in channels:  # --- Slack (issue 11): records, /slack/events|actions or Socket Mode ---
        from channels.slack.wiring import setup_slack

        slack_channel = setup_slack(app, store, channels)
    # --- end Slack ---

    from gateway.web.console import make_jinja_env, setup_console
    from gateway.web.kb_admin_page import setup_admin

    app[keys.JINJA] = make_jinja_env()
    setup_console(app)
    setup_admin(app, the_retriever)  # /admin/kb and the KBAdmin service (edit, upload, re-index)
    from gateway.web.jobs_admin import setup_jobs_admin

    setup_jobs_admin(app)  # /admin/jobs and /api/admin/jobs: dead jobs, retry
    # --- accounts, API tokens, customers (GDPR), OpenAPI document ---
    from gateway.web.accounts_admin import setup_accounts
    from gateway.web.openapi import setup_openapi

    setup_accounts(app)  # /admin/accounts, /api/admin/users|tokens, /api/audit, /api/customers
    setup_openapi(app)  # /api/openapi.json, generated from the routes
    # --- end accounts ---
    setup_health(app)

    async def database(app: web.Application) -> AsyncIterator[None]:
        await upgrade_async(settings.database_url)
        yield
        await engine.dispose()

    async def index_reloader(app: web.Application) -> AsyncIterator[None]:
        reload = getattr(the_retriever, "reload_if_changed", None)
        warm_up = getattr(the_retriever, "warm_up", None)
        task: asyncio.Task[None] | None = None
        if warm_up is not None:
            await warm_up()  # load the model now, not on the first customer's question
        if reload is not None:
            await reload()

            async def loop() -> None:
                while True:
                    await asyncio.sleep(settings.kb.reload_interval)
                    try:
                        if await reload():
                            log.info("knowledge-base index switched to a new version")
                    except Exception:
                        log.exception("index reload failed; still serving the previous version")

            task = asyncio.create_task(loop(), name="index-reloader")
        yield
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        close = getattr(the_retriever, "close", None)
        if close is not None:
            close()

    async def channel_services(app: web.Application) -> AsyncIterator[None]:
        started: list[Channel] = []
        try:
            for channel in channels.values():
                await channel.start(store.accept_inbound)
                started.append(channel)
            yield
        finally:
            for channel in reversed(started):
                try:
                    await channel.stop()
                except Exception:
                    log.exception("stopping channel %s failed", channel.name)

    async def job_workers(app: web.Application) -> AsyncIterator[None]:
        await runner.start()
        yield
        await runner.stop()

    async def close_bus(app: web.Application) -> None:
        await bus.close()

    app.cleanup_ctx.extend([database, index_reloader, channel_services, job_workers])
    if settings.email.enabled and settings.email.imap_mailboxes:  # --- IMAP mailboxes (issue 8) ---
        from channels.email.imap_in import imap_cleanup_ctx

        imap = imap_cleanup_ctx(settings, app[keys.MAIL], sessions, clock)  # checks the URLs now
        if imap is not None:
            app.cleanup_ctx.append(imap)  # after the job workers: stopped before them
    # --- end IMAP ---
    if "slack" in channels and slack_channel is not None:  # --- Slack (issue 11): threads catch-up ---
        from channels.slack.wiring import slack_catch_up

        app.cleanup_ctx.append(slack_catch_up(slack_channel, store))
    # --- end Slack catch-up ---
    from gateway.flow.housekeeping import housekeeping

    app.cleanup_ctx.append(housekeeping(sessions, clock, settings))  # purge old done jobs, sessions
    # --- ticket desk (issue 9) ---
    from gateway.tickets.desk_services import DeskServices
    from gateway.tickets.sla_clock import get_policies
    from gateway.tickets.sweeper import ticket_sweeper
    from gateway.web import tickets_api

    get_policies(settings.tickets)  # a bad tickets.policy_file stops the start with its reason
    app[keys.DESK] = DeskServices.on(store)
    tickets_api.setup(app)  # /api/desk: status, priority, queues, assignment, SLA, appointments, canned
    app.cleanup_ctx.append(ticket_sweeper(store))  # SLA warnings/breaches, reminders, auto-close
    # --- end ticket desk ---
    # --- ticket merges (issue 9): /api/desk/tickets/{id}/merge, email's suggestions ---
    from gateway.web import merge_api

    merge_api.setup(app, store)
    # --- end ticket merges ---
    # --- contact log, tags, incidents (issue 9): /api/desk/.../contacts|tags, /api/desk/incidents ---
    from gateway.web import incidents_api

    incidents_api.setup(app, store)  # and the periodic incident scan (incidents.scan_interval)
    # --- end contact log, tags, incidents ---
    # --- KPIs, satisfaction surveys, dashboard (issue 9, docs/KPIS.md) ---
    from gateway.web import reports_api

    reports_api.setup(app)  # /api/reports/kpis(.csv), /dashboard, /csat/{token}, survey job, KPI gauges
    # --- end KPIs ---
    app.on_shutdown.append(close_bus)
    return app
