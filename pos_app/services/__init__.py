"""Application services: one function per use-case, each in one transaction.

The UI, the CLI and the tests all go through here; nothing else writes to the database.
"""
