"""One card across the chain, the till's side (issue 14; docs/chain-protocol.md).

- sync_state.feed_cursor / pulled_at / pull_error: where this till is in HQ's down feed, and
  when it last heard HQ (the age of what it knows of other tills' balances).
- operator.hq_managed, product.hq_managed: rows HQ publishes; the till does not edit them.
- rules_version.hq_version: the chain rules version a loaded rules file came from (None for
  a store's own file); rules_version.hq_allows_local_promotions: whether HQ lets the store
  add promotions of its own on top of it.

Nothing else changes shape: members and cards of other stores come down as ordinary rows, and
what other tills did to a card or a member's points arrives as mirror ledger entries
(`card_synced`, `points_synced`), so verify still recomputes every balance from the ledger.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 11:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # ADD COLUMN only (recreate="never"): a table rebuild would drop 0007's outbox triggers.
    with op.batch_alter_table("sync_state", schema=None, recreate="never") as batch_op:
        batch_op.add_column(
            sa.Column("feed_cursor", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("pulled_at", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("pull_error", sa.Text(), nullable=True))
    for table in ("operator", "product"):
        with op.batch_alter_table(table, schema=None, recreate="never") as batch_op:
            batch_op.add_column(
                sa.Column("hq_managed", sa.Boolean(), nullable=False, server_default="0")
            )
    with op.batch_alter_table("rules_version", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("hq_version", sa.Integer(), nullable=True))
    # --- Master data from HQ: whether HQ lets this store add its own promotions
    # on top of the chain rules that version came from (None for a store's own file).
    with op.batch_alter_table("rules_version", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("hq_allows_local_promotions", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("rules_version", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("hq_allows_local_promotions")
    with op.batch_alter_table("rules_version", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("hq_version")
    for table in ("product", "operator"):
        with op.batch_alter_table(table, schema=None, recreate="never") as batch_op:
            batch_op.drop_column("hq_managed")
    with op.batch_alter_table("sync_state", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("pull_error")
        batch_op.drop_column("pulled_at")
        batch_op.drop_column("feed_cursor")
