"""SQLAlchemy 2.0 typed models. Balances on cards and members are projections of the ledger.

Times are ISO-8601 UTC text so they hash and compare the same everywhere; money is integer fen.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, MetaData, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Named constraints so Alembic batch migrations on SQLite can find and alter them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Id = String(36)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Store(Base):
    """This installation's store. One row."""

    __tablename__ = "store"
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    created_at: Mapped[str] = mapped_column(String(32))


class Operator(Base):
    __tablename__ = "operator"
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    login: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(40))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[str] = mapped_column(String(32))


class RulesVersion(Base):
    """Every rules file ever loaded; the highest version is in force."""

    __tablename__ = "rules_version"
    version: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(120))
    source_text: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[str] = mapped_column(String(32))
    loaded_by_id: Mapped[str] = mapped_column(ForeignKey("operator.id"))


class Counter(Base):
    """Named sequences (member numbers)."""

    __tablename__ = "counter"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[int] = mapped_column(default=0)


class Member(Base):
    __tablename__ = "member"
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    member_no: Mapped[str] = mapped_column(String(24), unique=True)
    mobile: Mapped[str] = mapped_column(String(11), unique=True)
    # Cashiers find members by the last four digits; an index on a suffix needs its own column.
    mobile_last4: Mapped[str] = mapped_column(String(4), index=True)
    name: Mapped[str] = mapped_column(String(40), index=True)
    gender: Mapped[str | None] = mapped_column(String(8))
    birthday: Mapped[str | None] = mapped_column(String(10))
    email: Mapped[str | None] = mapped_column(String(120))
    address: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)
    referrer_id: Mapped[str | None] = mapped_column(ForeignKey("member.id"), index=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("store.id"))
    registered_by_id: Mapped[str] = mapped_column(ForeignKey("operator.id"))
    created_at: Mapped[str] = mapped_column(String(32))
    # Projections of the ledger:
    tier_code: Mapped[str] = mapped_column(String(32))
    tier_since: Mapped[str] = mapped_column(String(32))
    points_balance: Mapped[int] = mapped_column(default=0)
    points_debt: Mapped[int] = mapped_column(default=0)


class CardStockBatch(Base):
    __tablename__ = "card_stock_batch"
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    label: Mapped[str] = mapped_column(String(80))
    media: Mapped[str] = mapped_column(String(16))
    count: Mapped[int]
    imported_at: Mapped[str] = mapped_column(String(32))
    entry_id: Mapped[str] = mapped_column(Id)  # the card_stock_imported entry


class Card(Base):
    __tablename__ = "card"
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    card_no: Mapped[str] = mapped_column(String(32), unique=True)
    media: Mapped[str] = mapped_column(String(16))
    member_id: Mapped[str | None] = mapped_column(ForeignKey("member.id"), index=True)
    stock_batch_id: Mapped[str | None] = mapped_column(ForeignKey("card_stock_batch.id"))
    pin_hash: Mapped[str | None] = mapped_column(String(200))
    replaced_by_id: Mapped[str | None] = mapped_column(ForeignKey("card.id"))
    created_at: Mapped[str] = mapped_column(String(32))
    # Projections of the ledger:
    state: Mapped[str] = mapped_column(String(16))
    principal_fen: Mapped[int] = mapped_column(default=0)
    bonus_fen: Mapped[int] = mapped_column(default=0)
    pin_failures: Mapped[int] = mapped_column(default=0)


class PointLot(Base):
    """Points earned together; `id` is the entry that created the lot."""

    __tablename__ = "point_lot"
    id: Mapped[str] = mapped_column(ForeignKey("ledger_entry.entry_id"), primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("member.id"), index=True)
    seq: Mapped[int]
    earned_at: Mapped[str] = mapped_column(String(32))
    expires_on: Mapped[str | None] = mapped_column(String(10))
    points: Mapped[int]
    remaining: Mapped[int]


class LedgerEntry(Base):
    """Append-only: triggers in the schema refuse UPDATE and DELETE; the hash chain shows
    any change made behind the triggers' back."""

    __tablename__ = "ledger_entry"
    __table_args__ = (
        UniqueConstraint("store_id", "store_seq", name="uq_ledger_entry_store_seq"),
        Index("ix_ledger_entry_card_seq", "card_id", "store_seq"),
        Index("ix_ledger_entry_member_seq", "member_id", "store_seq"),
        Index("ix_ledger_entry_kind_time", "kind", "business_time"),
    )
    entry_id: Mapped[str] = mapped_column(Id, primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("store.id"))
    store_seq: Mapped[int]
    kind: Mapped[str] = mapped_column(String(32))
    member_id: Mapped[str | None] = mapped_column(ForeignKey("member.id"))
    card_id: Mapped[str | None] = mapped_column(ForeignKey("card.id"))
    operator_id: Mapped[str] = mapped_column(ForeignKey("operator.id"))
    approved_by_id: Mapped[str | None] = mapped_column(ForeignKey("operator.id"))
    business_time: Mapped[str] = mapped_column(String(32))
    wall_time: Mapped[str] = mapped_column(String(32))
    principal_delta: Mapped[int] = mapped_column(default=0)
    bonus_delta: Mapped[int] = mapped_column(default=0)
    points_delta: Mapped[int] = mapped_column(default=0)
    amount_fen: Mapped[int] = mapped_column(default=0)
    tender: Mapped[str | None] = mapped_column(String(16))
    related_entry_id: Mapped[str | None] = mapped_column(Id, index=True)
    rules_version: Mapped[int]
    payload: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditEvent(Base):
    """Sensitive operations, allowed or refused: sign-in failures, approvals, rule loads."""

    __tablename__ = "audit_event"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    at: Mapped[str] = mapped_column(String(32), index=True)
    operator_id: Mapped[str | None] = mapped_column(ForeignKey("operator.id"))
    action: Mapped[str] = mapped_column(String(48))
    outcome: Mapped[str] = mapped_column(String(16))
    target: Mapped[str | None] = mapped_column(String(80))
    detail: Mapped[str | None] = mapped_column(Text)
