"""Typed application keys: everything the aiohttp app holds, in one module.

The composition root (:mod:`gateway.app`) sets them; handlers and tests read them
from here, never from the composition root.
"""

from __future__ import annotations

import jinja2
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.clock import Clock
from gateway.config import Settings
from gateway.flow.jobs import JobRunner
from gateway.flow.store import SqlStore
from gateway.kb.admin import KBAdmin
from gateway.kb.drafts import KBAdminPort
from gateway.mail.service import MailService
from gateway.protocols import Channel, EventBus, Retriever
from gateway.tickets.desk_extras import DeskExtras
from gateway.tickets.desk_services import DeskServices
from gateway.tickets.merge import TicketMerger
from gateway.tickets.service import OperatorService

SETTINGS = web.AppKey("settings", Settings)
CLOCK = web.AppKey("clock", Clock)
BUS = web.AppKey("bus", EventBus)
SESSIONS = web.AppKey("db_sessions", async_sessionmaker[AsyncSession])
OPERATORS = web.AppKey("operators", OperatorService)
JINJA = web.AppKey("jinja", jinja2.Environment)
SECRET = web.AppKey("secret_key", bytes)
STORE = web.AppKey("store", SqlStore)
RUNNER = web.AppKey("job_runner", JobRunner)
RETRIEVER = web.AppKey("retriever", Retriever)  # absent: this server has no knowledge base
CHANNELS = web.AppKey("channels", dict[str, Channel])
KB_ADMIN = web.AppKey("kb_admin", KBAdmin)  # the KB admin page's service (setup_admin)
# What approving a draft publishes through: a test's stand-in, or a KBAdmin made on
# first use when the app has none under KB_ADMIN (gateway.web.drafts_admin.kb_admin_of).
KB_ADMIN_PORT = web.AppKey("kb_loop_kb_admin", KBAdminPort)
# --- email (issue 8) ---
MAIL = web.AppKey("mail", MailService)  # the mail room: present when [email] enabled

# --- ticket desk (gateway/tickets/, gateway/web/tickets_api.py and desk_*_api.py) ---
DESK = web.AppKey("ticket_desk", DeskServices)  # status, priority, queues, SLA, appointments, canned
# --- end of ticket desk block ---
# --- ticket merges (gateway/tickets/merge.py, gateway/web/merge_api.py) ---
MERGER = web.AppKey("ticket_merger", TicketMerger)
# --- end of ticket merges ---
# --- contact log, tags, incidents (gateway/web/desk_contacts_api.py, incidents_api.py) ---
DESK_EXTRAS = web.AppKey("desk_extras", DeskExtras)
# --- end of contact log, tags, incidents ---
