"""The kinds of ledger entry. Each names one fact; balances are sums over them."""

from __future__ import annotations

from enum import StrEnum


class EntryKind(StrEnum):
    MEMBER_REGISTERED = "member_registered"
    CARD_STOCK_IMPORTED = "card_stock_imported"
    CARD_ISSUED = "card_issued"
    CARD_LOST = "card_lost"
    CARD_FOUND = "card_found"
    CARD_FROZEN = "card_frozen"
    CARD_UNFROZEN = "card_unfrozen"
    CARD_REPLACED_OUT = "card_replaced_out"  # the old card: balances leave, card is dead
    CARD_REPLACED_IN = "card_replaced_in"  # the new card: balances arrive
    CARD_CANCELLED = "card_cancelled"
    PIN_SET = "pin_set"
    PIN_FAILED = "pin_failed"
    PIN_RESET = "pin_reset"
    OPENING_BALANCE = "opening_balance"  # balances carried over from a previous system
    TOPUP = "topup"
    TOPUP_REFUNDED = "topup_refunded"
    SV_PAYMENT = "sv_payment"
    SV_PAYMENT_REFUNDED = "sv_payment_refunded"
    PURCHASE = "purchase"
    PURCHASE_REFUNDED = "purchase_refunded"
    POINTS_EARNED = "points_earned"
    POINTS_REVERSED = "points_reversed"
    POINTS_REDEEMED = "points_redeemed"
    POINTS_EXPIRED = "points_expired"
    POINTS_ADJUSTED = "points_adjusted"
    POINTS_RESET = "points_reset"
    REFERRAL_POINTS = "referral_points"
    PARTICIPATION_POINTS = "participation_points"
    TIER_CHANGED = "tier_changed"
    # Checkout. A sale is a `purchase` (member or not) with its tender entries beside it.
    POINTS_RETURNED = "points_returned"  # points a refunded sale had taken as a tender
    COUPON_ISSUED = "coupon_issued"
    COUPON_REDEEMED = "coupon_redeemed"
    COUPON_RESTORED = "coupon_restored"  # a refund gave a used coupon back
    COUPON_VOIDED = "coupon_voided"
    PASS_GRANTED = "pass_granted"  # a count/time/package card sold to a member
    PASS_USED = "pass_used"
    PASS_USE_REVERSED = "pass_use_reversed"
    PASS_REVOKED = "pass_revoked"  # the card itself refunded
    SHIFT_OPENED = "shift_opened"
    CASH_PAID_IN = "cash_paid_in"
    CASH_PAID_OUT = "cash_paid_out"
    SHIFT_CLOSED = "shift_closed"
    DAY_CLOSED = "day_closed"
    # Trust. Operators: every add and change of role, state, password or employee card, as
    # a snapshot of the sealed fields (never the secrets themselves), so `verify` can replay
    # who may do what; a store's integrity problem acknowledged by a manager; a restore.
    OPERATOR_CHANGED = "operator_changed"
    INTEGRITY_ACKNOWLEDGED = "integrity_acknowledged"
    STORE_RESTORED = "store_restored"  # the database put back from a backup (which, lost how much)
    # The chain (docs/chain-protocol.md): what other tills did to a card or a member's points,
    # as HQ last told this till. Mirrors move no money of this store.
    CARD_SYNCED = "card_synced"
    POINTS_SYNCED = "points_synced"
    COUPON_SYNCED = "coupon_synced"  # another store's coupon: its terms and chain state
    PASS_SYNCED = "pass_synced"  # a service pass: its terms and the uses at other tills


# Card state changes and the state each leads to.
CARD_STATE_AFTER = {
    EntryKind.CARD_ISSUED: "active",
    EntryKind.CARD_LOST: "lost",
    EntryKind.CARD_FOUND: "active",
    EntryKind.CARD_FROZEN: "frozen",
    EntryKind.CARD_UNFROZEN: "active",
    EntryKind.CARD_REPLACED_OUT: "replaced",
    EntryKind.CARD_REPLACED_IN: "active",
    EntryKind.CARD_CANCELLED: "cancelled",
}


# Entries that move money, points, counts, coupons or cash: refused while the store has an
# unacknowledged integrity problem. Card safety (lost, frozen), shifts and operators go on.
MOVES_VALUE = frozenset(
    {
        EntryKind.OPENING_BALANCE,
        EntryKind.TOPUP,
        EntryKind.TOPUP_REFUNDED,
        EntryKind.SV_PAYMENT,
        EntryKind.SV_PAYMENT_REFUNDED,
        EntryKind.CARD_REPLACED_OUT,
        EntryKind.CARD_REPLACED_IN,
        EntryKind.CARD_CANCELLED,
        EntryKind.PURCHASE,
        EntryKind.PURCHASE_REFUNDED,
        EntryKind.POINTS_EARNED,
        EntryKind.POINTS_REVERSED,
        EntryKind.POINTS_REDEEMED,
        EntryKind.POINTS_EXPIRED,
        EntryKind.POINTS_ADJUSTED,
        EntryKind.POINTS_RESET,
        EntryKind.REFERRAL_POINTS,
        EntryKind.PARTICIPATION_POINTS,
        EntryKind.TIER_CHANGED,
        EntryKind.POINTS_RETURNED,
        EntryKind.COUPON_ISSUED,
        EntryKind.COUPON_REDEEMED,
        EntryKind.COUPON_RESTORED,
        EntryKind.PASS_GRANTED,
        EntryKind.PASS_USED,
        EntryKind.PASS_USE_REVERSED,
        EntryKind.PASS_REVOKED,
        EntryKind.CASH_PAID_IN,
        EntryKind.CASH_PAID_OUT,
    }
)


# Entries that only mirror what other tills of the chain did: a till's and a store's money
# figures (Z report, day close, clearing) and HQ's positions leave them out.
MIRROR_KINDS = frozenset({EntryKind.CARD_SYNCED, EntryKind.POINTS_SYNCED, EntryKind.COUPON_SYNCED})

# The login of the till's operator who signs mirror entries and registers the rows the down
# feed makes. HQ knows a till's copies of what it sent (a member of another store) by it.
HQ_SYNC_LOGIN = "hq-sync"
