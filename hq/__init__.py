"""The chain's HQ: stores, their tills, and each till's ledger as received (issue 13).

Its own database (PostgreSQL in production, SQLite for a demo) and its own migrations; it
shares no tables with a till's store database.
"""
