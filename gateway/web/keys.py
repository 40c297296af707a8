"""Typed application keys: everything the aiohttp app holds."""

from __future__ import annotations

import jinja2
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from gateway.clock import Clock
from gateway.config import Settings
from gateway.protocols import EventBus
from gateway.tickets.service import OperatorService

SETTINGS = web.AppKey("settings", Settings)
CLOCK = web.AppKey("clock", Clock)
BUS = web.AppKey("bus", EventBus)
SESSIONS = web.AppKey("db_sessions", async_sessionmaker[AsyncSession])
OPERATORS = web.AppKey("operators", OperatorService)
JINJA = web.AppKey("jinja", jinja2.Environment)
SECRET = web.AppKey("secret_key", bytes)
