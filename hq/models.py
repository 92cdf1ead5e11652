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
