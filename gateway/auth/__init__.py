"""Console accounts, roles, password hashing, login sessions and API tokens."""

from gateway.auth.cli import add_user_arguments, add_user_command
from gateway.auth.passwords import hash_password, verify_password
from gateway.auth.roles import GRANTS, PERMISSIONS, ROLES, SCOPES, grants, role_allows
from gateway.auth.sessions import (
    create_session,
    delete_session,
    load_session,
    purge_expired_sessions,
)
from gateway.auth.tokens import (
    TokenAuth,
    TokenView,
    authenticate_token,
    create_token,
    list_tokens,
    revoke_token,
)
from gateway.auth.users import (
    authenticate,
    change_role,
    create_user,
    get_user,
    list_users,
    reset_password,
    set_active,
)

__all__ = [
    "GRANTS",
    "PERMISSIONS",
    "ROLES",
    "SCOPES",
    "TokenAuth",
    "TokenView",
    "add_user_arguments",
    "add_user_command",
    "authenticate",
    "authenticate_token",
    "change_role",
    "create_session",
    "create_token",
    "create_user",
    "delete_session",
    "get_user",
    "grants",
    "hash_password",
    "list_tokens",
    "list_users",
    "load_session",
    "purge_expired_sessions",
    "reset_password",
    "revoke_token",
    "role_allows",
    "set_active",
    "verify_password",
]
