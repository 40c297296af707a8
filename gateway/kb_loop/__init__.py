"""Closing the knowledge-base loop: agent assist (articles for a handed-off
conversation), KB gaps (what the bot could not answer, clustered), drafts of
articles from resolved tickets, and containment of a topic before and after.
"""

from gateway.kb_loop.assist import Suggestion, customer_questions, suggest
from gateway.kb_loop.containment import Containment, containment_split
from gateway.kb_loop.drafts import DraftError, DraftService, DraftView, KBAdminPort
from gateway.kb_loop.gaps import GapCluster, GapReport, gaps_report
from gateway.kb_loop.report import build_gaps

__all__ = [
    "Containment",
    "DraftError",
    "DraftService",
    "DraftView",
    "GapCluster",
    "GapReport",
    "KBAdminPort",
    "Suggestion",
    "build_gaps",
    "containment_split",
    "customer_questions",
    "gaps_report",
    "suggest",
]
