"""The email channel.

This package is kept import-light: the parsing library (``channels.email.parse``,
``channels.email.parsed``) is pure (no database, no network) and is imported by the
modules that need it, not from here.
"""
