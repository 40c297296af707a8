"""SQLAlchemy tables and engine set-up for the store."""
