"""Row objects built without the ORM's attribute events.

``Model(**values)`` runs SQLAlchemy's instrumented constructor: an event per
attribute, some 45 us for a message row on this machine kind.  A message on the
web-chat fast path builds six such rows (its own, its route job, the bot's reply,
its send job, the conversation and the identity it hands to the router), most of
them never added to a session (the plain-SQL path, ``gateway.flow.hot_sql``).
:func:`build` makes the same object the way the ORM does when it loads a row:
state created, values put straight into its ``__dict__`` (5 us).  The object is
transient and behaves as one built by its constructor: added to a session, it is
inserted with those values; assigned afterwards, it records the change.
"""

from __future__ import annotations

from typing import Any, TypeVar

from gateway.db.tables import Base

RowT = TypeVar("RowT", bound=Base)


def build(model: type[RowT], **values: Any) -> RowT:
    """``model(**values)`` without the per-attribute events (every key a column)."""
    mapper = model.__mapper__
    mapper._check_configure()  # as the constructor does first: mappers added since are set up
    obj: RowT = mapper.class_manager.new_instance()
    obj.__dict__.update(values)
    return obj
