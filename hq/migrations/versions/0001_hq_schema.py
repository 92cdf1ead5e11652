"""HQ schema: stores, tills, enrollment tokens (hashes only), received ledger entries, forks.

Revision ID: 0001
Revises:
Create Date: 2026-12-06 06:02:40.455848
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "store",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_store")),
        sa.UniqueConstraint("code", name=op.f("uq_store_code")),
    )
    op.create_table(
        "till",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=24), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("public_key", sa.String(length=128), nullable=True),
        sa.Column("enrolled_at", sa.String(length=32), nullable=False),
        sa.Column("acked_seq", sa.BigInteger(), nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=True),
        sa.Column("last_seen", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(["store_id"], ["store.id"], name=op.f("fk_till_store_id_store")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_till")),
        sa.UniqueConstraint("code", name=op.f("uq_till_code")),
    )
    with op.batch_alter_table("till", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_till_store_id"), ["store_id"], unique=False)

    op.create_table(
        "enrollment_token",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("till_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("issued_at", sa.String(length=32), nullable=False),
        sa.Column("expires_at", sa.String(length=32), nullable=False),
        sa.Column("used_at", sa.String(length=32), nullable=True),
        sa.ForeignKeyConstraint(
            ["till_id"], ["till.id"], name=op.f("fk_enrollment_token_till_id_till")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_enrollment_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_enrollment_token_token_hash")),
    )
    with op.batch_alter_table("enrollment_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_enrollment_token_till_id"), ["till_id"], unique=False)

    op.create_table(
        "fork",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("till_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("received_hash", sa.String(length=64), nullable=False),
        sa.Column("received_record", sa.Text(), nullable=False),
        sa.Column("detected_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["till_id"], ["till.id"], name=op.f("fk_fork_till_id_till")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fork")),
    )
    with op.batch_alter_table("fork", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_fork_till_id"), ["till_id"], unique=False)

    op.create_table(
        "hq_ledger_entry",
        sa.Column("till_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("entry_id", sa.String(length=36), nullable=False),
        sa.Column("source_store_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("member_id", sa.String(length=36), nullable=True),
        sa.Column("card_id", sa.String(length=36), nullable=True),
        sa.Column("operator_id", sa.String(length=36), nullable=False),
        sa.Column("approved_by_id", sa.String(length=36), nullable=True),
        sa.Column("business_time", sa.String(length=32), nullable=False),
        sa.Column("wall_time", sa.String(length=32), nullable=False),
        sa.Column("principal_delta", sa.BigInteger(), nullable=False),
        sa.Column("bonus_delta", sa.BigInteger(), nullable=False),
        sa.Column("points_delta", sa.BigInteger(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("tender", sa.String(length=16), nullable=True),
        sa.Column("related_entry_id", sa.String(length=36), nullable=True),
        sa.Column("rules_version", sa.Integer(), nullable=False),
        sa.Column("payload", sa.Text(), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["till_id"], ["till.id"], name=op.f("fk_hq_ledger_entry_till_id_till")
        ),
        sa.PrimaryKeyConstraint("till_id", "seq", name=op.f("pk_hq_ledger_entry")),
        sa.UniqueConstraint("entry_id", name=op.f("uq_hq_ledger_entry_entry_id")),
    )
    with op.batch_alter_table("hq_ledger_entry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hq_ledger_entry_card_id"), ["card_id"], unique=False)
        batch_op.create_index(
            "ix_hq_ledger_entry_kind_time", ["kind", "business_time"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_hq_ledger_entry_member_id"), ["member_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("hq_ledger_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hq_ledger_entry_member_id"))
        batch_op.drop_index("ix_hq_ledger_entry_kind_time")
        batch_op.drop_index(batch_op.f("ix_hq_ledger_entry_card_id"))

    op.drop_table("hq_ledger_entry")
    with op.batch_alter_table("fork", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_fork_till_id"))

    op.drop_table("fork")
    with op.batch_alter_table("enrollment_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_enrollment_token_till_id"))

    op.drop_table("enrollment_token")
    with op.batch_alter_table("till", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_till_store_id"))

    op.drop_table("till")
    op.drop_table("store")
