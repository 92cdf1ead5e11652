"""Sync ingest (issue 13): what HQ needs to take tills' batches.

- hq_ledger_entry.source_till_id: the till code an entry names (hashed by the till when set).
- till.acked_outbox_id: the highest outbox row HQ holds of the till.
- till.source_store_id: the till's own store id, from its first entry (later ones must match).
- hq_row: the newest version of every replicated row, by (till, table, key).
- hq_nonce: nonces of accepted signed requests, so a restart forgets no replay.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-06 07:50:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("hq_ledger_entry", schema=None) as batch_op:
        batch_op.add_column(sa.Column("source_till_id", sa.String(length=24), nullable=True))
    with op.batch_alter_table("till", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("acked_outbox_id", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("source_store_id", sa.String(length=36), nullable=True))
    # Tills that already sent entries: their store id is that of their first entry.
    op.execute(
        "UPDATE till SET source_store_id = (SELECT e.source_store_id FROM hq_ledger_entry e "
        "WHERE e.till_id = till.id AND e.seq = 1)"
    )
    op.create_table(
        "hq_row",
        sa.Column("till_id", sa.Integer(), nullable=False),
        sa.Column("table_name", sa.String(length=32), nullable=False),
        sa.Column("row_key", sa.Text(), nullable=False),
        sa.Column("op", sa.String(length=1), nullable=False),
        sa.Column("data", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True),
        sa.Column("outbox_id", sa.BigInteger(), nullable=False),
        sa.Column("received_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["till_id"], ["till.id"], name=op.f("fk_hq_row_till_id_till")),
        sa.PrimaryKeyConstraint("till_id", "table_name", "row_key", name=op.f("pk_hq_row")),
    )
    op.create_index("ix_hq_row_till_outbox", "hq_row", ["till_id", "outbox_id"], unique=False)
    op.create_table(
        "hq_nonce",
        sa.Column("till", sa.String(length=64), nullable=False),
        sa.Column("nonce", sa.String(length=128), nullable=False),
        sa.Column("seen_at", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("till", "nonce", name=op.f("pk_hq_nonce")),
    )
    op.create_index("ix_hq_nonce_till_seen", "hq_nonce", ["till", "seen_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_hq_nonce_till_seen", table_name="hq_nonce")
    op.drop_table("hq_nonce")
    op.drop_index("ix_hq_row_till_outbox", table_name="hq_row")
    op.drop_table("hq_row")
    with op.batch_alter_table("till", schema=None) as batch_op:
        batch_op.drop_column("source_store_id")
        batch_op.drop_column("acked_outbox_id")
    with op.batch_alter_table("hq_ledger_entry", schema=None) as batch_op:
        batch_op.drop_column("source_till_id")
