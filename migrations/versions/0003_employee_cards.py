"""Employee cards: an operator may sign in (and a manager approve) by tapping a card.

The card number is stored as its SHA-256 hex, under a unique index, so the table never holds
the number itself.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A nullable column and a unique index: SQLite does both in place, so the operator table
    # (referenced by most others) is not copied.
    with op.batch_alter_table("operator", schema=None) as batch_op:
        batch_op.add_column(sa.Column("employee_card_hash", sa.String(length=64), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_operator_employee_card_hash"), ["employee_card_hash"], unique=True
        )


def downgrade() -> None:
    # SQLite (3.35+) drops an unindexed column in place; copying the table instead would
    # trip the foreign keys that point at operator.
    with op.batch_alter_table("operator", schema=None, recreate="never") as batch_op:
        batch_op.drop_index(batch_op.f("ix_operator_employee_card_hash"))
        batch_op.drop_column("employee_card_hash")
