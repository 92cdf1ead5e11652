"""Sealed ledger: a MAC on every ledger entry and a seal on every operator row.

Both are HMACs made with the store's key, which lives in a key file outside the database;
rows written before the key existed keep NULL (see pos_app.services.store_secret).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Nullable columns added in place (no table copy): the ledger's append-only triggers and
    # the foreign keys pointing at operator stay as they are.
    with op.batch_alter_table("ledger_entry", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("mac", sa.String(length=64), nullable=True))
    with op.batch_alter_table("operator", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("seal", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("operator", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("seal")
    with op.batch_alter_table("ledger_entry", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("mac")
