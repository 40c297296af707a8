"""Roles and what they may do.

A *permission* names one thing a person or a program may do ("tickets:write").
A role grants a fixed set of them; an API token carries a subset as its *scopes*
(and never more than its owner's role grants).  Routes declare the permission they
need (:mod:`gateway.web.access`); the security middleware checks it on every request.

==========  ==================================================================
operator    the console: read and work tickets, customers' details, KB suggestions
supervisor  an operator who also manages the desk: merges customers, reads the
            audit log and reports, manages tickets of others
admin       everything: accounts and API tokens, KB and jobs admin, GDPR export/erase
==========  ==================================================================
"""

from __future__ import annotations

OPERATOR = "operator"
SUPERVISOR = "supervisor"
ADMIN = "admin"
ROLES = (OPERATOR, SUPERVISOR, ADMIN)  # lowest first

CONSOLE = "console"  # the console's pages and live socket (sessions only, never a token)
TICKETS_READ = "tickets:read"
TICKETS_WRITE = "tickets:write"
TICKETS_MANAGE = "tickets:manage"
CUSTOMERS_READ = "customers:read"
CUSTOMERS_WRITE = "customers:write"
CUSTOMERS_GDPR = "customers:gdpr"
REPORTS_READ = "reports:read"
AUDIT_READ = "audit:read"
KB_ADMIN = "kb:admin"
JOBS_ADMIN = "jobs:admin"
ACCOUNTS_ADMIN = "accounts:admin"
SYSTEM_ADMIN = "system:admin"  # any other administration (a route under /admin nobody classified)
AUTHENTICATED = "authenticated"  # any logged-in person or valid token: who am I, the API document

_OPERATOR = frozenset({CONSOLE, AUTHENTICATED, TICKETS_READ, TICKETS_WRITE, CUSTOMERS_READ})
_SUPERVISOR = _OPERATOR | {TICKETS_MANAGE, CUSTOMERS_WRITE, REPORTS_READ, AUDIT_READ}
_ADMIN = _SUPERVISOR | {CUSTOMERS_GDPR, KB_ADMIN, JOBS_ADMIN, ACCOUNTS_ADMIN, SYSTEM_ADMIN}

GRANTS: dict[str, frozenset[str]] = {OPERATOR: _OPERATOR, SUPERVISOR: _SUPERVISOR, ADMIN: _ADMIN}

PERMISSIONS: tuple[str, ...] = tuple(sorted(_ADMIN))
"""Every permission there is."""

SCOPES: tuple[str, ...] = tuple(p for p in PERMISSIONS if p not in (CONSOLE, AUTHENTICATED))
"""What an API token may be given (the console is for people; every token is authenticated)."""

DESCRIPTIONS: dict[str, str] = {
    TICKETS_READ: "read tickets, conversations, drafts and KB suggestions",
    TICKETS_WRITE: "take, reply, add notes, resolve, hand back",
    TICKETS_MANAGE: "manage other people's tickets, queues and SLA settings",
    CUSTOMERS_READ: "read customers and their identities",
    CUSTOMERS_WRITE: "link identities, merge customers",
    CUSTOMERS_GDPR: "export or erase everything stored about a customer",
    REPORTS_READ: "read the KPI dashboard and reports",
    AUDIT_READ: "read the audit log",
    KB_ADMIN: "edit the knowledge base, approve drafts, re-index",
    JOBS_ADMIN: "list and retry durable jobs",
    ACCOUNTS_ADMIN: "manage accounts and API tokens",
    SYSTEM_ADMIN: "any other administration",
}


def grants(role: str) -> frozenset[str]:
    """What ``role`` may do (nothing for an unknown role)."""
    return GRANTS.get(role, frozenset())


def role_allows(role: str, permission: str) -> bool:
    return permission in grants(role)


def lowest_role_with(permission: str) -> str | None:
    return next((r for r in ROLES if permission in GRANTS[r]), None)
