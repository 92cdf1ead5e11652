"""Money and permissions: operator lockout after wrong passwords, tier locks on members.

- operator.failed_logins / operator.locked_until: wrong passwords in a row and the lockout
  they earned (sign-in and approvals);
- login_throttle: the same count for logins that name no operator, so a lockout does not
  tell which logins exist;
- member.tier_locked_until: a manager's manual tier change held through a date.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-08 09:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Columns added in place (no table copy): operator and member are referenced by most
    # other tables, and the ledger's triggers must not be touched.
    with op.batch_alter_table("operator", schema=None, recreate="never") as batch_op:
        batch_op.add_column(
            sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("locked_until", sa.String(length=32), nullable=True))
    with op.batch_alter_table("member", schema=None, recreate="never") as batch_op:
        batch_op.add_column(sa.Column("tier_locked_until", sa.String(length=10), nullable=True))
    op.create_table(
        "login_throttle",
        sa.Column("login", sa.String(length=64), nullable=False),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.String(length=32), nullable=True),
        sa.Column("last_try_at", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("login", name=op.f("pk_login_throttle")),
    )
    with op.batch_alter_table("login_throttle", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_login_throttle_last_try_at"), ["last_try_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("login_throttle", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_throttle_last_try_at"))
    op.drop_table("login_throttle")
    with op.batch_alter_table("member", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("tier_locked_until")
    with op.batch_alter_table("operator", schema=None, recreate="never") as batch_op:
        batch_op.drop_column("locked_until")
        batch_op.drop_column("failed_logins")
