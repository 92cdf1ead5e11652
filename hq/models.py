"""SQLAlchemy 2.0 models of the HQ database, portable between PostgreSQL and SQLite.

Times are ISO-8601 UTC text, as on the till, so a received record compares and hashes the
same on both databases; money is integer fen (BIGINT: chain-wide sums outgrow 32 bits).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, MetaData, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Time = String(32)
Hash = String(64)
# A replicated row's columns: JSONB on PostgreSQL (indexable, compact), JSON text on SQLite.
RowData = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Store(Base):
    __tablename__ = "store"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[str] = mapped_column(Time)
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"), index=True)


class Till(Base):
    """One installation of pos-app. `acked_seq`/`head_hash` are the last entry HQ holds of
    its chain; the public key arrives when the till redeems its enrollment token."""

    __tablename__ = "till"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(24), unique=True)  # "SH01-01"
    store_id: Mapped[int] = mapped_column(ForeignKey("store.id"), index=True)
    public_key: Mapped[str | None] = mapped_column(String(128))
    enrolled_at: Mapped[str] = mapped_column(Time)
    acked_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    head_hash: Mapped[str | None] = mapped_column(Hash)
    last_seen: Mapped[str | None] = mapped_column(Time)
    # The highest outbox row id HQ holds of this till: the till may delete up to it.
    acked_outbox_id: Mapped[int] = mapped_column(BigInteger, default=0)
    # The till's own store id (a UUID in its database) from its first entry: every later
    # entry must carry the same, or it is another store's data.
    source_store_id: Mapped[str | None] = mapped_column(String(36))


class EnrollmentToken(Base):
    """A one-time token for a till's first contact. Only its SHA-256 is kept: the token is
    shown once, and a copy of this database enrolls no till."""

    __tablename__ = "enrollment_token"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    till_id: Mapped[int] = mapped_column(ForeignKey("till.id"), index=True)
    token_hash: Mapped[str] = mapped_column(Hash, unique=True)
    issued_at: Mapped[str] = mapped_column(Time)
    expires_at: Mapped[str] = mapped_column(Time)
    used_at: Mapped[str | None] = mapped_column(Time)


class HqLedgerEntry(Base):
    """A till's ledger entry as received: one row per (till, seq), with every field the
    till's hash covers (pos_app.domain.ledger_chain.HASHED_FIELDS) so HQ can re-hash the
    chain. The till's MAC is not kept: its key never leaves the till."""

    __tablename__ = "hq_ledger_entry"
    __table_args__ = (Index("ix_hq_ledger_entry_kind_time", "kind", "business_time"),)
    till_id: Mapped[int] = mapped_column(ForeignKey("till.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    entry_id: Mapped[str] = mapped_column(String(36), unique=True)
    # The till's own store id (a UUID in its database), as the till hashed it.
    source_store_id: Mapped[str] = mapped_column(String(36))
    # The till code the entry names (hashed when set); None on entries older than tills.
    source_till_id: Mapped[str | None] = mapped_column(String(24))
    kind: Mapped[str] = mapped_column(String(32))
    member_id: Mapped[str | None] = mapped_column(String(36), index=True)
    card_id: Mapped[str | None] = mapped_column(String(36), index=True)
    operator_id: Mapped[str] = mapped_column(String(36))
    approved_by_id: Mapped[str | None] = mapped_column(String(36))
    business_time: Mapped[str] = mapped_column(Time)
    wall_time: Mapped[str] = mapped_column(Time)
    principal_delta: Mapped[int] = mapped_column(BigInteger, default=0)
    bonus_delta: Mapped[int] = mapped_column(BigInteger, default=0)
    points_delta: Mapped[int] = mapped_column(BigInteger, default=0)
    amount_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    tender: Mapped[str | None] = mapped_column(String(16))
    related_entry_id: Mapped[str | None] = mapped_column(String(36))
    rules_version: Mapped[int]
    payload: Mapped[str | None] = mapped_column(Text)  # the till's canonical JSON, as hashed
    prev_hash: Mapped[str] = mapped_column(Hash)
    hash: Mapped[str] = mapped_column(Hash)
    received_at: Mapped[str] = mapped_column(Time)
    # The clearing month (YYYY-MM) the entry counts in: its business month, or the first
    # month still open when it arrived after that month was closed.
    clearing_month: Mapped[str | None] = mapped_column(String(7), index=True)


class Fork(Base):
    """A record that differs from the one HQ already acknowledged under the same (till, seq):
    refused and kept aside as evidence."""

    __tablename__ = "fork"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    till_id: Mapped[int] = mapped_column(ForeignKey("till.id"), index=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    received_hash: Mapped[str] = mapped_column(Hash)
    received_record: Mapped[str] = mapped_column(Text)
    detected_at: Mapped[str] = mapped_column(Time)


class HqRow(Base):
    """The newest version HQ holds of one replicated row of a till (sale, card, member …):
    upserted by (till, table, key), keeping the highest outbox id, so a resent or reordered
    older version never overwrites a newer one. `data` is None for a deleted row."""

    __tablename__ = "hq_row"
    __table_args__ = (Index("ix_hq_row_till_outbox", "till_id", "outbox_id"),)
    till_id: Mapped[int] = mapped_column(ForeignKey("till.id"), primary_key=True)
    table_name: Mapped[str] = mapped_column(String(32), primary_key=True)
    row_key: Mapped[str] = mapped_column(Text, primary_key=True)  # canonical JSON array
    op: Mapped[str] = mapped_column(String(1))
    data: Mapped[dict[str, Any] | None] = mapped_column(RowData)
    outbox_id: Mapped[int] = mapped_column(BigInteger)
    received_at: Mapped[str] = mapped_column(Time)


class HqNonce(Base):
    """Nonces of accepted signed requests, kept in the database so a restarted HQ or a
    second worker still refuses a replay. `seen_at` is the request's own timestamp (epoch
    seconds): a nonce older than twice the skew window can no longer pass and is pruned."""

    __tablename__ = "hq_nonce"
    __table_args__ = (Index("ix_hq_nonce_till_seen", "till", "seen_at"),)
    till: Mapped[str] = mapped_column(String(64), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(128), primary_key=True)
    seen_at: Mapped[int] = mapped_column(BigInteger)


# --- One card across the chain (issue 14; docs/chain-protocol.md) -----------------------------
# Chain views of members and cards, their balances by till, holds, the down feed, conflicts,
# clearing, HQ-published master data and HQ's operators. Each block belongs to one part of the
# protocol; the comments name it.


class Region(Base):
    """A region (大区): a group of stores under one region manager."""

    __tablename__ = "region"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[str] = mapped_column(Time)


class ChainMember(Base):
    """HQ's view of one member of the chain (from the member rows tills send, newest
    received wins). `home_store_id` is the store that registered the member."""

    __tablename__ = "chain_member"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the till's member id
    member_no: Mapped[str] = mapped_column(String(24), index=True)
    mobile: Mapped[str] = mapped_column(String(11), index=True)
    name: Mapped[str] = mapped_column(String(40))
    home_store_id: Mapped[int | None] = mapped_column(ForeignKey("store.id"), index=True)
    tier_code: Mapped[str | None] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(RowData)  # the newest member row, every column
    updated_at: Mapped[str] = mapped_column(Time)


class ChainCard(Base):
    """HQ's view of one card of the chain. `state` follows the latest state change by
    business time from any till, or HQ's own lost/freeze (`state_source` "hq:<login>").
    The row is also the lock an authorization and the ingest of the card's entries take."""

    __tablename__ = "chain_card"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the till's card id
    card_no: Mapped[str] = mapped_column(String(32), index=True)
    member_id: Mapped[str | None] = mapped_column(String(36), index=True)
    home_store_id: Mapped[int | None] = mapped_column(ForeignKey("store.id"), index=True)
    state: Mapped[str] = mapped_column(String(16))
    state_at: Mapped[str] = mapped_column(Time)  # business time of the change in force
    state_source: Mapped[str] = mapped_column(String(48))  # till code or "hq:<login>"
    data: Mapped[dict[str, Any]] = mapped_column(RowData)  # the newest card row, every column
    updated_at: Mapped[str] = mapped_column(Time)


class CardPosition(Base):
    """What one till's entries add up to on one card: Σ principal and bonus deltas of its
    entries except mirrors (card_synced). The chain balance is the sum over tills; what a
    till is told of the others is the chain balance less its own position."""

    __tablename__ = "card_position"
    card_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    till_id: Mapped[int] = mapped_column(ForeignKey("till.id"), primary_key=True)
    principal_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    bonus_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)


class MemberPosition(Base):
    """As CardPosition, for a member's points (Σ points deltas except points_synced)."""

    __tablename__ = "member_position"
    member_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    till_id: Mapped[int] = mapped_column(ForeignKey("till.id"), primary_key=True)
    points: Mapped[int] = mapped_column(BigInteger, default=0)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)


class Hold(Base):
    """An online authorization: stored value, points or a coupon set aside for one till's
    sale. `held` counts against the chain balance until the till's entry naming it arrives
    (`confirmed`), the till releases it (`released`) or it passes `expires_at` (`expired`)."""

    __tablename__ = "hold"
    __table_args__ = (Index("ix_hold_card_state", "card_id", "state"),)
    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # UUIDv7 made by HQ
    till_id: Mapped[int] = mapped_column(ForeignKey("till.id"), index=True)
    card_id: Mapped[str | None] = mapped_column(String(36))
    member_id: Mapped[str | None] = mapped_column(String(36), index=True)
    coupon_id: Mapped[str | None] = mapped_column(String(36), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    points: Mapped[int] = mapped_column(BigInteger, default=0)
    state: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[str] = mapped_column(Time)
    expires_at: Mapped[str] = mapped_column(Time)
    settled_at: Mapped[str | None] = mapped_column(Time)
    entry_seq: Mapped[int | None] = mapped_column(BigInteger)  # the confirming entry's seq
    # --- Online authorization (hq/authorization.py) ---
    # A coupon's hold belongs to the sale's main hold (the one the till was answered with):
    # releasing the main hold releases its coupons' holds too.
    parent_id: Mapped[str | None] = mapped_column(String(36), index=True)


class FeedClock(Base):
    """One row: the last feed change id handed out. Taking it with UPDATE serializes the
    writers of `feed_change`, so ids become visible in order and a cursor never skips one."""

    __tablename__ = "feed_clock"
    id: Mapped[int] = mapped_column(primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class FeedChange(Base):
    """The down feed: something tills must hear about changed. A pull returns the current
    state of each (kind, key) changed after the till's cursor. `store_id`/`region_id` narrow
    who hears it (None: every till of the chain)."""

    __tablename__ = "feed_change"
    __table_args__ = (Index("ix_feed_change_kind_key", "kind", "key"),)
    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(24))
    key: Mapped[str] = mapped_column(String(64))
    store_id: Mapped[int | None] = mapped_column(ForeignKey("store.id"))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"))
    origin_till_id: Mapped[int | None] = mapped_column(ForeignKey("till.id"))
    at: Mapped[str] = mapped_column(Time)


class Conflict(Base):
    """Something the chain's tills did that cannot all stand, found once they synced:
    `offline_overspend`, `points_overspend`, `coupon_reused`, `card_used_while_blocked`,
    `mobile_duplicate`. `subject` + `first_entry` make detection idempotent."""

    __tablename__ = "conflict"
    # Detection runs again and again over the same entries: a conflict is one row.
    __table_args__ = (
        Index(
            "uq_conflict_kind_subject_first_entry", "kind", "subject", "first_entry", unique=True
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(64))  # card, member or coupon id
    first_entry: Mapped[str] = mapped_column(String(80))  # the entry (or key) that made it
    card_id: Mapped[str | None] = mapped_column(String(36), index=True)
    member_id: Mapped[str | None] = mapped_column(String(36), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    points: Mapped[int] = mapped_column(BigInteger, default=0)
    tills: Mapped[str] = mapped_column(String(200))  # till codes, comma-separated, sorted
    detail: Mapped[dict[str, Any]] = mapped_column(RowData)
    detected_at: Mapped[str] = mapped_column(Time)
    resolved_at: Mapped[str | None] = mapped_column(Time)
    resolved_by: Mapped[str | None] = mapped_column(String(32))
    resolution: Mapped[str | None] = mapped_column(Text)


class ClearingMonth(Base):
    """A month of clearing (月结算) that was closed: its figures are frozen in
    ClearingLine; entries received after `closed_at` fall into the next open month."""

    __tablename__ = "clearing_month"
    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # YYYY-MM
    closed_at: Mapped[str] = mapped_column(Time)
    closed_by: Mapped[str] = mapped_column(String(32))
    liability_start_fen: Mapped[int] = mapped_column(BigInteger)
    liability_end_fen: Mapped[int] = mapped_column(BigInteger)
    invariant_ok: Mapped[bool]


class ClearingLine(Base):
    __tablename__ = "clearing_line"
    month: Mapped[str] = mapped_column(ForeignKey("clearing_month.month"), primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("store.id"), primary_key=True)
    figures: Mapped[dict[str, Any]] = mapped_column(RowData)  # the statement's fields


class ChainRules(Base):
    """Rules published by HQ (the same TOML as a till's rules file); the highest version is
    in force on every till. `allow_local_promotions` lets a store add its own promotions."""

    __tablename__ = "chain_rules"
    version: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    label: Mapped[str] = mapped_column(String(120))
    source_text: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(Hash)
    allow_local_promotions: Mapped[bool] = mapped_column(default=True)
    published_at: Mapped[str] = mapped_column(Time)
    published_by: Mapped[str] = mapped_column(String(32))


class ChainProduct(Base):
    """A product of the chain catalogue; `data` holds the till's product columns (sku,
    name, category, price_fen, member_price_fen, flags, barcodes)."""

    __tablename__ = "chain_product"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    sku: Mapped[str] = mapped_column(String(32), unique=True)
    data: Mapped[dict[str, Any]] = mapped_column(RowData)
    updated_at: Mapped[str] = mapped_column(Time)


class PriceOverride(Base):
    """A store's own price for a chain product."""

    __tablename__ = "price_override"
    product_id: Mapped[str] = mapped_column(ForeignKey("chain_product.id"), primary_key=True)
    store_id: Mapped[int] = mapped_column(ForeignKey("store.id"), primary_key=True)
    price_fen: Mapped[int] = mapped_column(BigInteger)
    member_price_fen: Mapped[int | None] = mapped_column(BigInteger)
    updated_at: Mapped[str] = mapped_column(Time)


class HqOperator(Base):
    """A person of the chain: signs in to the HQ console, and (with a till role) to every
    till of their scope. `scope` is "hq", "region" or "store". The password is an scrypt
    hash (pos_app.services.credentials), the same on HQ and the tills it goes down to."""

    __tablename__ = "hq_operator"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    login: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(40))
    role: Mapped[str] = mapped_column(String(16))  # a till role: cashier, manager, admin
    scope: Mapped[str] = mapped_column(String(8))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("region.id"))
    store_id: Mapped[int | None] = mapped_column(ForeignKey("store.id"))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[str] = mapped_column(Time)
    updated_at: Mapped[str] = mapped_column(Time)


class HqAudit(Base):
    """What people did at HQ: console sign-ins, lost/freeze, publishing, closing a month."""

    __tablename__ = "hq_audit"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    at: Mapped[str] = mapped_column(Time, index=True)
    actor: Mapped[str | None] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(48))
    outcome: Mapped[str] = mapped_column(String(16))
    target: Mapped[str | None] = mapped_column(String(80))
    detail: Mapped[dict[str, Any] | None] = mapped_column(RowData)


# --- Master data from HQ: coupon templates (issue 14) -------------------------------
# Added beside chain_rules / chain_product: the chain's coupon templates go down to every till.


class ChainCouponTemplate(Base):
    """A coupon template HQ publishes to every till; `data` holds the template's fields as
    the till's coupon_template row has them (code, name, kind, amounts, scopes, validity)."""

    __tablename__ = "chain_coupon_template"
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    data: Mapped[dict[str, Any]] = mapped_column(RowData)
    active: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[str] = mapped_column(Time)
