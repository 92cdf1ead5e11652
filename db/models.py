"""SQLAlchemy 2.0 typed models. Balances on cards and members are projections of the ledger.

Times are ISO-8601 UTC text so they hash and compare the same everywhere; money is integer fen.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index, MetaData, Select, String, Text, UniqueConstraint, select
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
    """This installation's store (`own_store()`), and the chain's other stores whose
    members and cards came down from HQ."""

    __tablename__ = "store"
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    created_at: Mapped[str] = mapped_column(String(32))


class Till(Base):
    """This installation's till (node): "SH01-01" is till 01 of store SH01. One row. Its
    ledger chain, sequence and receipt numbers are its own, so two tills never collide."""

    __tablename__ = "till"
    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    store_id: Mapped[str] = mapped_column(ForeignKey("store.id"))
    created_at: Mapped[str] = mapped_column(String(32))


def own_store() -> Select[tuple[Store]]:
    """This installation's store: the till's. Other stores' rows arrive with the chain's
    members (issue 14), so `select(Store)` alone no longer names one row."""
    return select(Store).join(Till, Till.store_id == Store.id)


class Operator(Base):
    __tablename__ = "operator"
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    login: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(40))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[str] = mapped_column(String(32))
    # HMAC (store key) of the SHA-256 of the employee card's number (员工卡): the table never
    # holds the number, and a stolen table cannot be searched for it without the key.
    employee_card_hash: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    # HMAC (store key) over login, name, role, active, password and card hashes: a row changed
    # outside the app no longer matches, and sign-in refuses it.
    seal: Mapped[str | None] = mapped_column(String(64))
    # Wrong passwords in a row (sign-in and approvals) and the lockout they earned. Not
    # sealed: every failed try writes them, and nothing is gained by forging them back.
    failed_logins: Mapped[int] = mapped_column(default=0, server_default="0")
    locked_until: Mapped[str | None] = mapped_column(String(32))
    # Published by HQ (scoped to the chain, this store's region or this store): edited at HQ
    # only, and sealed here like any operator when it comes down.
    hq_managed: Mapped[bool] = mapped_column(default=False, server_default="0")


class LoginThrottle(Base):
    """Wrong tries at a login that names no operator, counted like an operator's: otherwise
    a lockout would tell which logins exist. Old rows are pruned as new ones come."""

    __tablename__ = "login_throttle"
    login: Mapped[str] = mapped_column(String(64), primary_key=True)
    failed_logins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[str | None] = mapped_column(String(32))
    last_try_at: Mapped[str] = mapped_column(String(32), index=True)


class RulesVersion(Base):
    """Every rules file ever loaded; the highest version is in force."""

    __tablename__ = "rules_version"
    version: Mapped[int] = mapped_column(primary_key=True)
    label: Mapped[str] = mapped_column(String(120))
    source_text: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[str] = mapped_column(String(32))
    loaded_by_id: Mapped[str] = mapped_column(ForeignKey("operator.id"))
    # The chain rules version (HQ's chain_rules) this file came from; None for the store's own.
    hq_version: Mapped[int | None]
    # Whether HQ lets this store load promotions of its own on top of that version (None for
    # the store's own file): `pos-app rules load` then merges only the file's [[promotion]].
    hq_allows_local_promotions: Mapped[bool | None]


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
    # A manager's manual tier change may hold the member at that level through this business
    # day (YYYY-MM-DD): the review and refunds lower them no further until then.
    tier_locked_until: Mapped[str | None] = mapped_column(String(10))
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
    # HMAC-SHA256(store key, hash): re-hashing a rewritten chain needs the key too. NULL only
    # on entries written before the store had a key (below the key file's keyed_from_seq).
    mac: Mapped[str | None] = mapped_column(String(64))
    # The till that wrote the entry; hashed when set (entries older than till identity have
    # None and hash as they always did).
    till_id: Mapped[str | None] = mapped_column(String(24))


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


# --- Checkout: catalogue, coupons, service passes, shifts, sales -----------------------------


class Product(Base):
    """A product or service on sale. Count, time and package cards are products too: selling
    one grants the member a service pass described by `pass_spec` (JSON)."""

    __tablename__ = "product"
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    sku: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(80), index=True)
    name_en: Mapped[str | None] = mapped_column(String(80))
    category: Mapped[str] = mapped_column(String(40), index=True)
    unit: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(16))  # goods, service, count_card, time_card, package
    price_fen: Mapped[int]
    member_price_fen: Mapped[int | None]
    earns_points: Mapped[bool] = mapped_column(default=True)
    takes_discounts: Mapped[bool] = mapped_column(default=True)
    pass_spec: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(default=True)
    updated_at: Mapped[str] = mapped_column(String(32))
    # Sold by weight (散称): priced per `unit`, which is then "kg" or "斤"; lines carry weights.
    sold_by_weight: Mapped[bool] = mapped_column(default=False, server_default="0")
    # From the chain catalogue (with this store's price override): edited at HQ only.
    hq_managed: Mapped[bool] = mapped_column(default=False, server_default="0")


class ProductBarcode(Base):
    __tablename__ = "product_barcode"
    barcode: Mapped[str] = mapped_column(String(32), primary_key=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("product.id"), index=True)


class CouponTemplate(Base):
    """What a coupon is worth and when it may be used (满20减8, 8.5折 capped, gift, exchange).
    Scopes are JSON lists of categories and SKUs; empty means the whole sale."""

    __tablename__ = "coupon_template"
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(16))  # amount_off, percent_off, gift, exchange
    threshold_fen: Mapped[int] = mapped_column(default=0)
    amount_off_fen: Mapped[int] = mapped_column(default=0)
    percent_off: Mapped[int] = mapped_column(default=0)
    cap_fen: Mapped[int] = mapped_column(default=0)
    scope_categories: Mapped[str] = mapped_column(Text, default="[]")
    scope_skus: Mapped[str] = mapped_column(Text, default="[]")
    gift_sku: Mapped[str | None] = mapped_column(String(32))
    valid_from: Mapped[str | None] = mapped_column(String(10))
    valid_to: Mapped[str | None] = mapped_column(String(10))
    valid_days: Mapped[int | None]
    per_member_limit: Mapped[int] = mapped_column(default=0)
    stacks_with_tier: Mapped[bool] = mapped_column(default=True)
    stacks_with_coupons: Mapped[bool] = mapped_column(default=False)
    restore_on_refund: Mapped[bool] = mapped_column(default=True)
    points_cost: Mapped[int] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[str] = mapped_column(String(32))


class Coupon(Base):
    """One issued coupon. `state` is a projection of its ledger entries."""

    __tablename__ = "coupon"
    id: Mapped[str] = mapped_column(Id, primary_key=True)  # the coupon_issued entry
    code: Mapped[str] = mapped_column(String(32), unique=True)
    template_id: Mapped[str] = mapped_column(ForeignKey("coupon_template.id"), index=True)
    member_id: Mapped[str | None] = mapped_column(ForeignKey("member.id"), index=True)
    source: Mapped[str] = mapped_column(String(16))
    batch_label: Mapped[str | None] = mapped_column(String(80))
    valid_from: Mapped[str] = mapped_column(String(10))
    valid_to: Mapped[str] = mapped_column(String(10))
    issued_at: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))  # issued, used, void
    used_at: Mapped[str | None] = mapped_column(String(32))
    used_receipt_no: Mapped[str | None] = mapped_column(String(32))


class ServicePass(Base):
    """A count card (计次卡), time card (时限卡), package (套餐卡) or trial card a member holds."""

    __tablename__ = "service_pass"
    id: Mapped[str] = mapped_column(Id, primary_key=True)  # the pass_granted entry
    member_id: Mapped[str] = mapped_column(ForeignKey("member.id"), index=True)
    product_sku: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))  # count, time, package
    name: Mapped[str] = mapped_column(String(80))
    valid_until: Mapped[str] = mapped_column(String(10))
    receipt_no: Mapped[str | None] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16))  # active, revoked
    granted_at: Mapped[str] = mapped_column(String(32))


class ServicePassItem(Base):
    """One service a pass covers; `uses_left` is None for unlimited use (time cards)."""

    __tablename__ = "service_pass_item"
    pass_id: Mapped[str] = mapped_column(ForeignKey("service_pass.id"), primary_key=True)
    service_sku: Mapped[str] = mapped_column(String(32), primary_key=True)
    uses_total: Mapped[int | None]
    uses_left: Mapped[int | None]


class Shift(Base):
    """A till's shift, from opening float to cash count. At most one is open at a time."""

    __tablename__ = "shift"
    id: Mapped[str] = mapped_column(Id, primary_key=True)  # the shift_opened entry
    shift_no: Mapped[int] = mapped_column(unique=True)
    business_day: Mapped[str] = mapped_column(String(10), index=True)
    opened_by_id: Mapped[str] = mapped_column(ForeignKey("operator.id"))
    opened_at: Mapped[str] = mapped_column(String(32))
    float_fen: Mapped[int]
    state: Mapped[str] = mapped_column(String(16))  # open, closed
    closed_by_id: Mapped[str | None] = mapped_column(ForeignKey("operator.id"))
    closed_at: Mapped[str | None] = mapped_column(String(32))
    counted_fen: Mapped[int | None]
    expected_cash_fen: Mapped[int | None]


class Sale(Base):
    """A completed sale or refund (kind `refund`, amounts negative), written once at commit.
    The columns are the figures reports add up, so a day-end reads one narrow table."""

    __tablename__ = "sale"
    __table_args__ = (Index("ix_sale_time", "business_time"),)
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    receipt_no: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(8))  # sale, refund
    original_sale_id: Mapped[str | None] = mapped_column(ForeignKey("sale.id"), index=True)
    shift_id: Mapped[str] = mapped_column(ForeignKey("shift.id"), index=True)
    operator_id: Mapped[str] = mapped_column(ForeignKey("operator.id"))
    approved_by_id: Mapped[str | None] = mapped_column(ForeignKey("operator.id"))
    member_id: Mapped[str | None] = mapped_column(ForeignKey("member.id"), index=True)
    card_id: Mapped[str | None] = mapped_column(ForeignKey("card.id"))
    business_time: Mapped[str] = mapped_column(String(32))
    gross_fen: Mapped[int]  # list prices
    discount_fen: Mapped[int]  # member price, tier, promotions and coupons together
    rounding_fen: Mapped[int]  # 抹零
    total_fen: Mapped[int]  # what the customer owes (gross - discount - rounding)
    change_fen: Mapped[int] = mapped_column(default=0)
    points_earned: Mapped[int] = mapped_column(default=0)
    entry_id: Mapped[str] = mapped_column(Id)  # the purchase / purchase_refunded entry


class SaleLine(Base):
    __tablename__ = "sale_line"
    sale_id: Mapped[str] = mapped_column(ForeignKey("sale.id"), primary_key=True)
    line_no: Mapped[int] = mapped_column(primary_key=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("product.id"))
    sku: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(80))
    category: Mapped[str] = mapped_column(String(40))
    qty: Mapped[int]  # negative on a refund
    # Weighed goods: the weight in thousandths of the product's unit (grams for a product
    # priced per kg; see pos_app/domain/weighed_goods.py), negative on a refund; qty is then 1
    # on the sale. None for goods sold by the piece.
    weight_milli: Mapped[int | None]
    unit_price_fen: Mapped[int]
    gross_fen: Mapped[int]
    net_fen: Mapped[int]  # after every discount and the share of rounding
    original_line_no: Mapped[int | None]  # on a refund: the line returned
    adjustments: Mapped[str] = mapped_column(Text, default="[]")  # JSON: the explained discounts


class SaleTender(Base):
    __tablename__ = "sale_tender"
    __table_args__ = (Index("ix_sale_tender_time", "business_time", "tender", "amount_fen"),)
    sale_id: Mapped[str] = mapped_column(ForeignKey("sale.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(primary_key=True)
    tender: Mapped[str] = mapped_column(String(16))
    amount_fen: Mapped[int]  # what the tender paid towards the total (cash: net of change)
    reference: Mapped[str | None] = mapped_column(String(64))
    entry_id: Mapped[str | None] = mapped_column(Id)  # the sv/points/pass entry it made
    business_time: Mapped[str] = mapped_column(String(32))


class ReceiptDocument(Base):
    """The receipt as printed, for reprint (补打); kept apart so `sale` stays narrow."""

    __tablename__ = "receipt_document"
    sale_id: Mapped[str] = mapped_column(ForeignKey("sale.id"), primary_key=True)
    document: Mapped[str] = mapped_column(Text)


class HeldSale(Base):
    """A cart put aside (挂单) to serve the next customer; not money, so not in the ledger."""

    __tablename__ = "held_sale"
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    label: Mapped[str] = mapped_column(String(40))
    operator_id: Mapped[str] = mapped_column(ForeignKey("operator.id"))
    held_at: Mapped[str] = mapped_column(String(32))
    cart: Mapped[str] = mapped_column(Text)  # JSON


class DayClose(Base):
    """Day-end (日结): the day's figures as they stood when the manager closed it."""

    __tablename__ = "day_close"
    business_day: Mapped[str] = mapped_column(String(10), primary_key=True)
    closed_at: Mapped[str] = mapped_column(String(32))
    closed_by_id: Mapped[str] = mapped_column(ForeignKey("operator.id"))
    figures: Mapped[str] = mapped_column(Text)  # JSON
    entry_id: Mapped[str] = mapped_column(Id)


class SyncState(Base):
    """Where this till syncs to and what HQ has acknowledged (one row, id 1, once set up).

    `acked_seq`/`acked_hash` is the last ledger entry HQ holds: local verify checks that the
    chain still contains it, which a truncated or re-hashed tail cannot fake.
    `acked_outbox_id` is the last outbox row HQ holds."""

    __tablename__ = "sync_state"
    id: Mapped[int] = mapped_column(primary_key=True)
    hq_url: Mapped[str] = mapped_column(String(200))
    ca_file: Mapped[str | None] = mapped_column(String(400))
    store_code: Mapped[str] = mapped_column(String(16))
    enrolled_at: Mapped[str] = mapped_column(String(32))
    acked_seq: Mapped[int] = mapped_column(default=0, server_default="0")
    acked_hash: Mapped[str | None] = mapped_column(String(64))
    acked_outbox_id: Mapped[int] = mapped_column(default=0, server_default="0")
    last_ok_at: Mapped[str | None] = mapped_column(String(32))
    last_attempt_at: Mapped[str | None] = mapped_column(String(32))
    unreachable_since: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(Text)
    fork_seq: Mapped[int | None]
    fork_detected_at: Mapped[str | None] = mapped_column(String(32))
    # The down feed: the last change id applied, and when HQ was last heard from (how old
    # this till's knowledge of other tills' balances is: offline limits check it).
    feed_cursor: Mapped[int] = mapped_column(default=0, server_default="0")
    pulled_at: Mapped[str | None] = mapped_column(String(32))
    pull_error: Mapped[str | None] = mapped_column(Text)


class SyncOutbox(Base):
    """A change to a replicated row, written by a trigger in the changing transaction
    (migrations/versions/0007_till_and_sync.py). The pusher sends the row as it is when it
    pushes; `op` is I, U or D; `row_key` is the JSON array of the row's key columns."""

    __tablename__ = "sync_outbox"
    __table_args__ = {"sqlite_autoincrement": True}
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    table_name: Mapped[str] = mapped_column(String(32))
    row_key: Mapped[str] = mapped_column(Text)
    op: Mapped[str] = mapped_column(String(1))
