"""Weighed goods: products sold by weight, and weights on sale lines.

- product.sold_by_weight: the product is priced per kg or 斤 and sold by weight (散称);
- sale_line.weight_milli: a weighed line's weight in thousandths of the product's unit
  (grams for a product priced per kg), negative on a refund; NULL for goods sold by the piece.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-09 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Columns added in place (no table copy): both tables are referenced by others, and a
    # copy of sale_line would rewrite every sale the till ever made.
    with op.batch_alter_table("product", schema=None, recreate="never") as batch_op:
        batch_op.add_column(
            sa.Column("sold_by_weight", sa.Boolean(), nullable=False, server_default="0")
        )
    with op.batch_alter_table("sale_line", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("weight_milli", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sale_line", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("weight_milli")
    with op.batch_alter_table("product", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("sold_by_weight")
