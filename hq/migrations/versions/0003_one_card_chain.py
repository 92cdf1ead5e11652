"""One card across the chain (issue 14; docs/chain-protocol.md).

- region; store.region_id: stores grouped into regions (大区).
- chain_member, chain_card: HQ's view of the chain's members and cards.
- card_position, member_position: what each till's entries add up to per card / member.
- hold: online authorizations; feed_clock, feed_change: the down feed and its ordering.
- conflict: what tills did offline that cannot all stand.
- clearing_month, clearing_line, hq_ledger_entry.clearing_month: monthly clearing (月结算).
- chain_rules, chain_product, price_override, hq_operator: master data HQ publishes.
- hq_audit: what people did at HQ.

Tills that pushed before this version are folded into the new views by
`hq.chain_views.rebuild` when `pos-hq` upgrades (hq/migrate.py), not here: it replays
their entries with the same code the ingest runs.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-06 10:47:56.892360
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "chain_product",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("sku", sa.String(length=32), nullable=False),
        sa.Column("data", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chain_product")),
        sa.UniqueConstraint("sku", name=op.f("uq_chain_product_sku")),
    )
    op.create_table(
        "chain_rules",
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("label", sa.String(length=120), nullable=False),
        sa.Column("source_text", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("allow_local_promotions", sa.Boolean(), nullable=False),
        sa.Column("published_at", sa.String(length=32), nullable=False),
        sa.Column("published_by", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("version", name=op.f("pk_chain_rules")),
    )
    op.create_table(
        "clearing_month",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("closed_at", sa.String(length=32), nullable=False),
        sa.Column("closed_by", sa.String(length=32), nullable=False),
        sa.Column("liability_start_fen", sa.BigInteger(), nullable=False),
        sa.Column("liability_end_fen", sa.BigInteger(), nullable=False),
        sa.Column("invariant_ok", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("month", name=op.f("pk_clearing_month")),
    )
    op.create_table(
        "conflict",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("subject", sa.String(length=64), nullable=False),
        sa.Column("first_entry", sa.String(length=80), nullable=False),
        sa.Column("card_id", sa.String(length=36), nullable=True),
        sa.Column("member_id", sa.String(length=36), nullable=True),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("tills", sa.String(length=200), nullable=False),
        sa.Column(
            "detail", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.Column("detected_at", sa.String(length=32), nullable=False),
        sa.Column("resolved_at", sa.String(length=32), nullable=True),
        sa.Column("resolved_by", sa.String(length=32), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conflict")),
    )
    with op.batch_alter_table("conflict", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_conflict_card_id"), ["card_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_conflict_member_id"), ["member_id"], unique=False)

    op.create_table(
        "feed_clock",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_clock")),
    )
    op.execute("INSERT INTO feed_clock (id, value) VALUES (1, 0)")
    op.create_table(
        "hq_audit",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.String(length=32), nullable=False),
        sa.Column("actor", sa.String(length=32), nullable=True),
        sa.Column("action", sa.String(length=48), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("target", sa.String(length=80), nullable=True),
        sa.Column(
            "detail", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=True
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hq_audit")),
    )
    with op.batch_alter_table("hq_audit", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_hq_audit_at"), ["at"], unique=False)

    op.create_table(
        "region",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("code", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_region")),
        sa.UniqueConstraint("code", name=op.f("uq_region_code")),
    )
    op.create_table(
        "chain_card",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("card_no", sa.String(length=32), nullable=False),
        sa.Column("member_id", sa.String(length=36), nullable=True),
        sa.Column("home_store_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("state_at", sa.String(length=32), nullable=False),
        sa.Column("state_source", sa.String(length=48), nullable=False),
        sa.Column("data", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["home_store_id"], ["store.id"], name=op.f("fk_chain_card_home_store_id_store")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chain_card")),
    )
    with op.batch_alter_table("chain_card", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_chain_card_card_no"), ["card_no"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_chain_card_home_store_id"), ["home_store_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_chain_card_member_id"), ["member_id"], unique=False)

    op.create_table(
        "chain_member",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("member_no", sa.String(length=24), nullable=False),
        sa.Column("mobile", sa.String(length=11), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("home_store_id", sa.Integer(), nullable=True),
        sa.Column("tier_code", sa.String(length=32), nullable=True),
        sa.Column("data", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["home_store_id"], ["store.id"], name=op.f("fk_chain_member_home_store_id_store")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chain_member")),
    )
    with op.batch_alter_table("chain_member", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_chain_member_home_store_id"), ["home_store_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_chain_member_member_no"), ["member_no"], unique=False)
        batch_op.create_index(batch_op.f("ix_chain_member_mobile"), ["mobile"], unique=False)

    op.create_table(
        "clearing_line",
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column(
            "figures", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["month"], ["clearing_month.month"], name=op.f("fk_clearing_line_month_clearing_month")
        ),
        sa.ForeignKeyConstraint(
            ["store_id"], ["store.id"], name=op.f("fk_clearing_line_store_id_store")
        ),
        sa.PrimaryKeyConstraint("month", "store_id", name=op.f("pk_clearing_line")),
    )
    op.create_table(
        "hq_operator",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("login", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("scope", sa.String(length=8), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=True),
        sa.Column("store_id", sa.Integer(), nullable=True),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["region_id"], ["region.id"], name=op.f("fk_hq_operator_region_id_region")
        ),
        sa.ForeignKeyConstraint(
            ["store_id"], ["store.id"], name=op.f("fk_hq_operator_store_id_store")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hq_operator")),
        sa.UniqueConstraint("login", name=op.f("uq_hq_operator_login")),
    )
    op.create_table(
        "price_override",
        sa.Column("product_id", sa.String(length=36), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=False),
        sa.Column("price_fen", sa.BigInteger(), nullable=False),
        sa.Column("member_price_fen", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["chain_product.id"],
            name=op.f("fk_price_override_product_id_chain_product"),
        ),
        sa.ForeignKeyConstraint(
            ["store_id"], ["store.id"], name=op.f("fk_price_override_store_id_store")
        ),
        sa.PrimaryKeyConstraint("product_id", "store_id", name=op.f("pk_price_override")),
    )
    op.create_table(
        "card_position",
        sa.Column("card_id", sa.String(length=36), nullable=False),
        sa.Column("till_id", sa.Integer(), nullable=False),
        sa.Column("principal_fen", sa.BigInteger(), nullable=False),
        sa.Column("bonus_fen", sa.BigInteger(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["till_id"], ["till.id"], name=op.f("fk_card_position_till_id_till")
        ),
        sa.PrimaryKeyConstraint("card_id", "till_id", name=op.f("pk_card_position")),
    )
    op.create_table(
        "feed_change",
        sa.Column("id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=24), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("store_id", sa.Integer(), nullable=True),
        sa.Column("region_id", sa.Integer(), nullable=True),
        sa.Column("origin_till_id", sa.Integer(), nullable=True),
        sa.Column("at", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["origin_till_id"], ["till.id"], name=op.f("fk_feed_change_origin_till_id_till")
        ),
        sa.ForeignKeyConstraint(
            ["region_id"], ["region.id"], name=op.f("fk_feed_change_region_id_region")
        ),
        sa.ForeignKeyConstraint(
            ["store_id"], ["store.id"], name=op.f("fk_feed_change_store_id_store")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feed_change")),
    )
    with op.batch_alter_table("feed_change", schema=None) as batch_op:
        batch_op.create_index("ix_feed_change_kind_key", ["kind", "key"], unique=False)

    op.create_table(
        "hold",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("till_id", sa.Integer(), nullable=False),
        sa.Column("card_id", sa.String(length=36), nullable=True),
        sa.Column("member_id", sa.String(length=36), nullable=True),
        sa.Column("coupon_id", sa.String(length=36), nullable=True),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("expires_at", sa.String(length=32), nullable=False),
        sa.Column("settled_at", sa.String(length=32), nullable=True),
        sa.Column("entry_seq", sa.BigInteger(), nullable=True),
        # Online authorization (hq/authorization.py): a coupon's hold names the sale's main hold.
        sa.Column("parent_id", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(["till_id"], ["till.id"], name=op.f("fk_hold_till_id_till")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hold")),
    )
    with op.batch_alter_table("hold", schema=None) as batch_op:
        batch_op.create_index("ix_hold_card_state", ["card_id", "state"], unique=False)
        batch_op.create_index(batch_op.f("ix_hold_coupon_id"), ["coupon_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_hold_member_id"), ["member_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_hold_till_id"), ["till_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_hold_parent_id"), ["parent_id"], unique=False)

    op.create_table(
        "member_position",
        sa.Column("member_id", sa.String(length=36), nullable=False),
        sa.Column("till_id", sa.Integer(), nullable=False),
        sa.Column("points", sa.BigInteger(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["till_id"], ["till.id"], name=op.f("fk_member_position_till_id_till")
        ),
        sa.PrimaryKeyConstraint("member_id", "till_id", name=op.f("pk_member_position")),
    )
    with op.batch_alter_table("hq_ledger_entry", schema=None) as batch_op:
        batch_op.add_column(sa.Column("clearing_month", sa.String(length=7), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_hq_ledger_entry_clearing_month"), ["clearing_month"], unique=False
        )

    # On SQLite a batch copy of `store` drops the old table, which its
    # foreign-key check refuses once tills reference it (any HQ that has tills): SQLite adds
    # a nullable column with a named REFERENCES in place instead.
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE store ADD COLUMN region_id INTEGER "
            "CONSTRAINT fk_store_region_id_region REFERENCES region (id)"
        )
        op.create_index(op.f("ix_store_region_id"), "store", ["region_id"], unique=False)
    else:
        with op.batch_alter_table("store", schema=None) as batch_op:
            batch_op.add_column(sa.Column("region_id", sa.Integer(), nullable=True))
            batch_op.create_index(batch_op.f("ix_store_region_id"), ["region_id"], unique=False)
            batch_op.create_foreign_key(
                batch_op.f("fk_store_region_id_region"), "region", ["region_id"], ["id"]
            )

    # --- Conflicts: detection is idempotent by (kind, subject, first_entry). ---
    with op.batch_alter_table("conflict", schema=None) as batch_op:
        batch_op.create_index(
            "uq_conflict_kind_subject_first_entry",
            ["kind", "subject", "first_entry"],
            unique=True,
        )

    # --- Master data from HQ: coupon templates ---------------------------------
    op.create_table(
        "chain_coupon_template",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("data", sa.JSON().with_variant(postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_chain_coupon_template")),
        sa.UniqueConstraint("code", name=op.f("uq_chain_coupon_template_code")),
    )


def downgrade() -> None:
    op.drop_table("chain_coupon_template")  # master data from HQ
    with op.batch_alter_table("conflict", schema=None) as batch_op:
        batch_op.drop_index("uq_conflict_kind_subject_first_entry")
    if op.get_bind().dialect.name == "sqlite":
        # The column's REFERENCES (added in place above) goes with the column in the copy.
        op.drop_index(op.f("ix_store_region_id"), table_name="store")
        with op.batch_alter_table("store", schema=None) as batch_op:
            batch_op.drop_column("region_id")
    else:
        with op.batch_alter_table("store", schema=None) as batch_op:
            batch_op.drop_constraint(batch_op.f("fk_store_region_id_region"), type_="foreignkey")
            batch_op.drop_index(batch_op.f("ix_store_region_id"))
            batch_op.drop_column("region_id")

    with op.batch_alter_table("hq_ledger_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hq_ledger_entry_clearing_month"))
        batch_op.drop_column("clearing_month")

    op.drop_table("member_position")
    with op.batch_alter_table("hold", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hold_parent_id"))
        batch_op.drop_index(batch_op.f("ix_hold_till_id"))
        batch_op.drop_index(batch_op.f("ix_hold_member_id"))
        batch_op.drop_index(batch_op.f("ix_hold_coupon_id"))
        batch_op.drop_index("ix_hold_card_state")

    op.drop_table("hold")
    with op.batch_alter_table("feed_change", schema=None) as batch_op:
        batch_op.drop_index("ix_feed_change_kind_key")

    op.drop_table("feed_change")
    op.drop_table("card_position")
    op.drop_table("price_override")
    op.drop_table("hq_operator")
    op.drop_table("clearing_line")
    with op.batch_alter_table("chain_member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chain_member_mobile"))
        batch_op.drop_index(batch_op.f("ix_chain_member_member_no"))
        batch_op.drop_index(batch_op.f("ix_chain_member_home_store_id"))

    op.drop_table("chain_member")
    with op.batch_alter_table("chain_card", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_chain_card_member_id"))
        batch_op.drop_index(batch_op.f("ix_chain_card_home_store_id"))
        batch_op.drop_index(batch_op.f("ix_chain_card_card_no"))

    op.drop_table("chain_card")
    op.drop_table("region")
    with op.batch_alter_table("hq_audit", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hq_audit_at"))

    op.drop_table("hq_audit")
    op.drop_table("feed_clock")
    with op.batch_alter_table("conflict", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conflict_member_id"))
        batch_op.drop_index(batch_op.f("ix_conflict_card_id"))

    op.drop_table("conflict")
    op.drop_table("clearing_month")
    op.drop_table("chain_rules")
    op.drop_table("chain_product")
