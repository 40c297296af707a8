"""Console accounts, password hashing and login sessions."""

from gateway.auth.cli import add_user_arguments, add_user_command
from gateway.auth.passwords import hash_password, verify_password
from gateway.auth.sessions import (
    create_session,
    delete_session,
    load_session,
    purge_expired_sessions,
)
from gateway.auth.users import ROLES, authenticate, create_user

__all__ = [
    "ROLES",
    "add_user_arguments",
    "add_user_command",
    "authenticate",
    "create_session",
    "create_user",
    "delete_session",
    "hash_password",
    "load_session",
    "purge_expired_sessions",
    "verify_password",
]
