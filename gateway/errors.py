"""Errors the core raises to its callers (web handlers map them to HTTP codes)."""


class GuichetError(Exception):
    """Base class."""


class NotFoundError(GuichetError):
    """The ticket, conversation or user does not exist."""


class ConflictError(GuichetError):
    """The action does not fit the current state (already taken, already resolved)."""


class ForbiddenError(GuichetError):
    """The user's role does not allow the action."""


class InvalidInputError(GuichetError):
    """Input was rejected; the message says why."""
