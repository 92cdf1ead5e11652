"""Till identity and the sync outbox (issue 13).

- till: this installation's till (node), e.g. "SH01-01". One row. A store made by an older
  version becomes its store's till 01; its chain is unchanged and keeps verifying.
- ledger_entry.till_id: the till that wrote the entry, covered by the hash from this version
  on (pos_app.domain.ledger_chain: hashed only when set, so older entries hash as before).
- sync_state: where this till syncs to and what HQ has acknowledged. One row once set up.
- sync_outbox: one row per insert, update or delete of a replicated table, written by the
  triggers below in the same transaction as the change, so no change can be missed by the
  pusher. The ledger itself is not in it: its own gap-free sequence is its outbox.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-10 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The tables whose rows go up to HQ (and come back on a restore), with their key columns.
# Kept here, frozen, rather than imported: a migration must not change when the code does.
REPLICATED = {
    "store": ("id",),
    "till": ("id",),
    "operator": ("id",),
    "rules_version": ("version",),
    "counter": ("name",),
    "member": ("id",),
    "card_stock_batch": ("id",),
    "card": ("id",),
    "point_lot": ("id",),
    "audit_event": ("id",),
    "product": ("id",),
    "product_barcode": ("barcode",),
    "coupon_template": ("id",),
    "coupon": ("id",),
    "service_pass": ("id",),
    "service_pass_item": ("pass_id", "service_sku"),
    "shift": ("id",),
    "sale": ("id",),
    "sale_line": ("sale_id", "line_no"),
    "sale_tender": ("sale_id", "seq"),
    "receipt_document": ("sale_id",),
    "held_sale": ("id",),
    "day_close": ("business_day",),
}


def _triggers(table: str, keys: tuple[str, ...]) -> list[str]:
    statements = []
    for verb, row in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
        key = "json_array(" + ", ".join(f"{row}.{k}" for k in keys) + ")"
        statements.append(
            f"CREATE TRIGGER sync_outbox_{table}_{verb.lower()} AFTER {verb} ON {table} "
            f"BEGIN INSERT INTO sync_outbox (table_name, row_key, op) "
            f"VALUES ('{table}', {key}, '{verb[0]}'); END"
        )
    return statements


def upgrade() -> None:
    op.create_table(
        "till",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("store_id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(["store_id"], ["store.id"], name=op.f("fk_till_store_id_store")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_till")),
    )
    # A store made by an older version is till 01 of its store.
    op.execute(
        "INSERT INTO till (id, store_id, created_at) "
        "SELECT code || '-01', id, created_at FROM store"
    )
    with op.batch_alter_table("ledger_entry", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("till_id", sa.String(length=24), nullable=True))
    op.create_table(
        "sync_state",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hq_url", sa.String(length=200), nullable=False),
        sa.Column("ca_file", sa.String(length=400), nullable=True),
        sa.Column("store_code", sa.String(length=16), nullable=False),
        sa.Column("enrolled_at", sa.String(length=32), nullable=False),
        sa.Column("acked_seq", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("acked_hash", sa.String(length=64), nullable=True),
        sa.Column("acked_outbox_id", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("last_ok_at", sa.String(length=32), nullable=True),
        sa.Column("last_attempt_at", sa.String(length=32), nullable=True),
        sa.Column("unreachable_since", sa.String(length=32), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("fork_seq", sa.Integer(), nullable=True),
        sa.Column("fork_detected_at", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_state")),
    )
    op.create_table(
        "sync_outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("table_name", sa.String(length=32), nullable=False),
        sa.Column("row_key", sa.Text(), nullable=False),
        sa.Column("op", sa.String(length=1), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_outbox")),
        sqlite_autoincrement=True,
    )
    for table, keys in REPLICATED.items():
        for statement in _triggers(table, keys):
            op.execute(statement)
    # Rows that exist already go up with the first push, as inserts.
    for table, keys in REPLICATED.items():
        key = "json_array(" + ", ".join(keys) + ")"
        op.execute(
            f"INSERT INTO sync_outbox (table_name, row_key, op) "
            f"SELECT '{table}', {key}, 'I' FROM {table}"
        )


def downgrade() -> None:
    for table in REPLICATED:
        for verb in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS sync_outbox_{table}_{verb}")
    op.drop_table("sync_outbox")
    op.drop_table("sync_state")
    with op.batch_alter_table("ledger_entry", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("till_id")
    op.drop_table("till")
