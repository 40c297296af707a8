"""The routes written before :func:`gateway.web.access.describe` existed, described
here by method and path: their permission, API description and audit action.
New modules decorate their handlers instead of adding lines here."""

from __future__ import annotations

from typing import Any

from gateway.auth.roles import (
    AUTHENTICATED,
    CONSOLE,
    JOBS_ADMIN,
    KB_ADMIN,
    TICKETS_READ,
    TICKETS_WRITE,
)
from gateway.web.route_docs import Param, RouteDoc

Schema = dict[str, Any]


def obj(required: tuple[str, ...] = (), **props: Schema) -> Schema:
    schema: Schema = {"type": "object", "properties": props}
    if required:
        schema["required"] = list(required)
    return schema


ANY_OBJECT: Schema = {"type": "object"}
TEXT: Schema = obj(("text",), text={"type": "string", "minLength": 1, "maxLength": 10_000,
                                    "description": "plain text; surrounding blanks are removed"})
STRINGS: Schema = {"type": "array", "items": {"type": "string"}}
ARTICLE: Schema = obj(
    id={"type": "string", "maxLength": 200}, title={"type": "string"}, lang={"type": "string"},
    tags={"oneOf": [STRINGS, {"type": "string"}]}, body={"type": "string"},
    questions={"oneOf": [STRINGS, {"type": "string"}]},
)
TICKET = {200: ("the ticket", obj(ticket=ANY_OBJECT))}
CONVERSATION = {200: ("the conversation", obj(conversation=ANY_OBJECT))}
MESSAGE = {201: ("the stored message", obj(message=ANY_OBJECT))}
DRAFT = {200: ("the draft", obj(draft=ANY_OBJECT))}
JOB = {200: ("the job", obj(job=ANY_OBJECT))}
STATUS_LIST = Param("status", {"type": "string"}, "comma-separated statuses")
LIMIT = Param("limit", {"type": "integer", "minimum": 1, "maximum": 500}, "at most this many")

TICKETS, CONVERSATIONS, DRAFTS, KB, JOBS = ("tickets",), ("conversations",), ("drafts",), ("kb",), ("jobs",)

CATALOG: dict[tuple[str, str], RouteDoc] = {
    # ------------------------------------------------------------- console API
    ("GET", "/api/me"): RouteDoc(
        AUTHENTICATED, "Who is calling", tags=("accounts",),
        responses={200: ("the account", obj(user=ANY_OBJECT))}),
    ("GET", "/api/tickets"): RouteDoc(
        TICKETS_READ, "List tickets", tags=TICKETS,
        query=(Param("status", {"type": "string"}, "comma-separated statuses (default: new,open)"),
               Param("queue", {"type": "string"}, "only this queue")),
        responses={200: ("tickets", obj(tickets={"type": "array", "items": ANY_OBJECT}))}),
    ("GET", "/api/tickets/{id}"): RouteDoc(TICKETS_READ, "One ticket", tags=TICKETS, responses=TICKET),
    ("POST", "/api/tickets/{id}/take"): RouteDoc(
        TICKETS_WRITE, "Take a ticket over", tags=TICKETS, body=None, body_required=False,
        responses=TICKET, audit="ticket.take", subject="ticket"),
    ("POST", "/api/tickets/{id}/resolve"): RouteDoc(
        TICKETS_WRITE, "Resolve a ticket", tags=TICKETS, body=None, body_required=False,
        responses=TICKET, audit="ticket.resolve", subject="ticket"),
    ("GET", "/api/conversations/{id}"): RouteDoc(
        TICKETS_READ, "A conversation and its messages", tags=CONVERSATIONS,
        responses={200: ("conversation and messages",
                         obj(conversation=ANY_OBJECT, messages={"type": "array", "items": ANY_OBJECT}))}),
    ("POST", "/api/conversations/{id}/reply"): RouteDoc(
        TICKETS_WRITE, "Reply to the customer", tags=CONVERSATIONS, body=TEXT, responses=MESSAGE,
        audit="conversation.reply", subject="conversation"),
    ("POST", "/api/conversations/{id}/notes"): RouteDoc(
        TICKETS_WRITE, "Add an internal note", tags=CONVERSATIONS, body=TEXT, responses=MESSAGE,
        audit="conversation.note", subject="conversation"),
    ("POST", "/api/conversations/{id}/handback"): RouteDoc(
        TICKETS_WRITE, "Hand the conversation back to the bot", tags=CONVERSATIONS, body=None,
        body_required=False, responses=CONVERSATION, audit="conversation.hand_back",
        subject="conversation"),
    ("POST", "/api/conversations/{id}/typing"): RouteDoc(
        TICKETS_WRITE, "Tell the customer the operator is typing", tags=CONVERSATIONS,
        body=obj(("on",), on={"type": "boolean"}), responses={200: ("relayed", obj(ok={"type": "boolean"}))}),
    ("GET", "/api/conversations/{id}/suggestions"): RouteDoc(
        TICKETS_READ, "Knowledge-base articles answering the customer", tags=CONVERSATIONS,
        query=(Param("k", {"type": "integer", "minimum": 1, "maximum": 10}, "how many (default 3)"),),
        responses={200: ("suggestions", obj(questions=STRINGS, suggestions={"type": "array"},
                                            available={"type": "boolean"}))}),
    # ------------------------------------------------------------------ drafts
    ("POST", "/api/tickets/{id}/draft"): RouteDoc(
        TICKETS_WRITE, "Draft a KB article from a resolved ticket", tags=DRAFTS,
        body=obj(title={"type": "string"}), body_required=False,
        responses={201: ("the draft", obj(draft=ANY_OBJECT, url={"type": "string"}))},
        audit="draft.create", subject="ticket"),
    ("GET", "/api/drafts"): RouteDoc(
        TICKETS_READ, "List article drafts", tags=DRAFTS, query=(STATUS_LIST,),
        responses={200: ("drafts", obj(drafts={"type": "array", "items": ANY_OBJECT}))}),
    ("GET", "/api/drafts/{id}"): RouteDoc(TICKETS_READ, "One draft", tags=DRAFTS, responses=DRAFT),
    ("POST", "/api/drafts/{id}/approve"): RouteDoc(
        KB_ADMIN, "Approve a draft (publishes the article)", tags=DRAFTS,
        body=obj(title={"type": "string"}, body={"type": "string"}, questions=STRINGS),
        body_required=False, responses=DRAFT, audit="draft.approve", subject="draft"),
    ("POST", "/api/drafts/{id}/reject"): RouteDoc(
        KB_ADMIN, "Reject a draft", tags=DRAFTS, body=None, body_required=False, responses=DRAFT,
        audit="draft.reject", subject="draft"),
    ("GET", "/api/kb/gaps"): RouteDoc(
        TICKETS_READ, "Questions the knowledge base does not answer", tags=KB,
        query=(Param("days", {"type": "number", "exclusiveMinimum": 0, "maximum": 366}, "window"),),
        responses={200: ("the report", ANY_OBJECT)}),
    ("GET", "/console/admin/drafts"): RouteDoc(CONSOLE, "Drafts page"),
    ("GET", "/console/admin/drafts/{id}"): RouteDoc(CONSOLE, "Drafts page, one draft open"),
    ("POST", "/console/admin/drafts/{id}/{verb}"): RouteDoc(
        KB_ADMIN, "Approve or reject a draft (form)", audit="draft.{verb}", subject="draft",
        page_subject="Reviewing drafts"),
    # -------------------------------------------------------------- KB admin
    ("GET", "/admin/kb"): RouteDoc(KB_ADMIN, "Knowledge-base admin page", page_subject="The knowledge base"),
    ("GET", "/api/admin/kb/articles"): RouteDoc(
        KB_ADMIN, "List articles and broken sources", tags=KB, responses={200: ("articles", ANY_OBJECT)}),
    ("POST", "/api/admin/kb/articles"): RouteDoc(
        KB_ADMIN, "Create an article", tags=KB, body=ARTICLE, responses={201: ("saved", ANY_OBJECT)},
        audit="kb.article.create"),
    ("GET", "/api/admin/kb/articles/{id}"): RouteDoc(
        KB_ADMIN, "One article", tags=KB, responses={200: ("the article", ANY_OBJECT)}),
    ("PUT", "/api/admin/kb/articles/{id}"): RouteDoc(
        KB_ADMIN, "Save an article", tags=KB, body=ARTICLE, responses={200: ("saved", ANY_OBJECT)},
        audit="kb.article.save", subject="kb_article"),
    ("DELETE", "/api/admin/kb/articles/{id}"): RouteDoc(
        KB_ADMIN, "Delete a one-article file", tags=KB, responses={200: ("deleted", ANY_OBJECT)},
        audit="kb.article.delete", subject="kb_article"),
    ("POST", "/api/admin/kb/upload"): RouteDoc(
        KB_ADMIN, "Upload a source file", tags=KB, body_type="multipart/form-data",
        body=obj(("file",), file={"type": "string", "format": "binary"}),
        responses={201: ("stored", ANY_OBJECT)}, audit="kb.upload"),
    ("POST", "/api/admin/kb/reindex"): RouteDoc(
        KB_ADMIN, "Rebuild the index", tags=KB, body=None, body_required=False,
        responses={202: ("started or joined", ANY_OBJECT)}, audit="kb.reindex"),
    ("GET", "/api/admin/kb/status"): RouteDoc(
        KB_ADMIN, "Re-index progress", tags=KB, responses={200: ("status", ANY_OBJECT)}),
    ("GET", "/api/admin/kb/versions"): RouteDoc(
        KB_ADMIN, "Index versions", tags=KB, responses={200: ("versions", ANY_OBJECT)}),
    ("POST", "/api/admin/kb/versions/{version}/activate"): RouteDoc(
        KB_ADMIN, "Switch to a kept index version", tags=KB, body=None, body_required=False,
        responses={200: ("the version", ANY_OBJECT)}, audit="kb.activate", subject="kb_version"),
    # ------------------------------------------------------------------- jobs
    ("GET", "/admin/jobs"): RouteDoc(JOBS_ADMIN, "Jobs admin page", page_subject="The job queue"),
    ("POST", "/admin/jobs/{id}/retry"): RouteDoc(
        JOBS_ADMIN, "Retry a dead job (form)", audit="job.retry", subject="job",
        page_subject="The job queue"),
    ("POST", "/admin/jobs/retry-dead"): RouteDoc(
        JOBS_ADMIN, "Retry every dead job (form)", audit="job.retry_dead", page_subject="The job queue"),
    ("GET", "/api/admin/jobs"): RouteDoc(
        JOBS_ADMIN, "List jobs", tags=JOBS,
        query=(Param("status", {"type": "string", "enum": ["queued", "running", "done", "dead"]}),
               Param("kind", {"type": "string"}), LIMIT),
        responses={200: ("jobs and counts", obj(jobs={"type": "array"}, counts=ANY_OBJECT))}),
    ("GET", "/api/admin/jobs/{id}"): RouteDoc(JOBS_ADMIN, "One job", tags=JOBS, responses=JOB),
    ("POST", "/api/admin/jobs/{id}/retry"): RouteDoc(
        JOBS_ADMIN, "Retry a dead job", tags=JOBS, body=None, body_required=False, responses=JOB,
        audit="job.retry", subject="job"),
    ("POST", "/api/admin/jobs/retry-dead"): RouteDoc(
        JOBS_ADMIN, "Retry every dead job", tags=JOBS, body=None, body_required=False,
        query=(Param("kind", {"type": "string"}),), responses={200: ("retried", ANY_OBJECT)},
        audit="job.retry_dead"),
}
