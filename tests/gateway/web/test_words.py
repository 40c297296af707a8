"""Codes in words: every handoff reason the bot policy records has its words, and an
event line never shows a bare code."""

from __future__ import annotations

import re

from gateway.flow import policy
from gateway.models import TicketStatus
from gateway.web.words import HANDOFF_REASONS, TICKET_STATUSES, console_words, event_text, reason_text


def test_every_handoff_reason_of_the_policy_has_words() -> None:
    doc = policy.__doc__ or ""
    handoff = doc.split("- handoff:", 1)[1].split("- answer:", 1)[0]
    reasons = set(re.findall(r"``([a-z_]+)``", handoff))
    assert reasons and reasons <= set(HANDOFF_REASONS)


def test_every_ticket_status_has_words() -> None:
    assert {s.value for s in TicketStatus} <= set(TICKET_STATUSES)


def test_event_lines_read_as_words() -> None:
    line = "Ticket G-1007 opened in queue L1 (explicit_request)."
    assert event_text(line) == "Ticket G-1007 opened in queue L1 (the customer asked for a person)."
    angry = event_text("Ticket G-1 opened in queue L1 (frustration).")
    assert angry.endswith("(the customer sounded frustrated).")
    assert event_text("Opened (some_new_code).") == "Opened (some new code)."  # unknown: no underscores
    assert event_text("olga took over ticket G-1 (L2).") == "olga took over ticket G-1 (L2)."  # not a code
    assert reason_text("") == ""


def test_the_browser_gets_the_same_tables() -> None:
    assert console_words()["reasons"] is HANDOFF_REASONS
