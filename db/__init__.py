"""Persistence: SQLAlchemy models, SQLite engine set-up, the append-only ledger."""
