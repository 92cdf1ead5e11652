"""The permission matrix: who may do what, and who must approve."""

from __future__ import annotations

import pytest

from pos_app.domain.errors import ApprovalRequired, PermissionDenied
from pos_app.domain.permissions import (
    MINIMUM_ROLE,
    NEEDS_APPROVAL,
    Permission,
    Role,
    approval_missing,
    approver_needed,
    check_approver,
    check_permission,
    role_allows,
)

P = Permission
MANAGER_ONLY = {
    P.MEMBER_VIEW_FULL_MOBILE,
    P.CARD_STOCK_IMPORT,
    P.CARD_FOUND,
    P.POINTS_ADJUST,
    P.POINTS_EXPIRE,
    P.TIER_REVIEW,
    P.AUDIT_VIEW,
    P.PRODUCT_IMPORT,
    P.COUPON_TEMPLATE,
    P.COUPON_BATCH,
    P.COUPON_VOID,
    P.INTEGRITY_ACKNOWLEDGE,
    P.BACKUP_RESTORE,
    P.SYNC_SETUP,
}
ADMIN_ONLY = {P.MEMBER_IMPORT, P.OPERATOR_MANAGE, P.STORE_EDIT, P.RULES_LOAD, P.DEMO_DATA}


def test_every_permission_has_a_minimum_role():
    assert set(MINIMUM_ROLE) == set(Permission)


@pytest.mark.parametrize("permission", list(Permission))
def test_matrix(permission):
    if permission in ADMIN_ONLY:
        allowed = {Role.ADMIN}
    elif permission in MANAGER_ONLY:
        allowed = {Role.MANAGER, Role.ADMIN}
    else:
        allowed = set(Role)
    for role in Role:
        assert role_allows(role, permission) is (role in allowed), (role, permission)
        if role in allowed:
            check_permission(role, permission)
        else:
            with pytest.raises(PermissionDenied):
                check_permission(role, permission)


def test_a_refusal_names_the_role_and_the_action():
    with pytest.raises(PermissionDenied) as info:
        check_permission(Role.CASHIER, P.CARD_FOUND)
    assert info.value.en == "A cashier is not allowed to mark a lost card found"
    assert "收银员" in info.value.zh


def test_privileged_actions():
    assert {
        P.PIN_RESET,
        P.CARD_CANCEL,
        P.CARD_REPLACE,
        P.TOPUP_REFUND,
        P.STORED_VALUE_REFUND,
        P.PURCHASE_REFUND,
        P.PURCHASE_MANUAL,
        P.POINTS_PARTICIPATION,
        P.TIER_CHANGE,
        P.SALE_OVER_LIMIT,
        P.CARD_FREEZE,  # a cashier freezes a card, closes the day, sees the store's
        P.DAY_CLOSE,  # figures only with a manager on the spot
        P.REPORT_STORE,
    } == NEEDS_APPROVAL


@pytest.mark.parametrize("permission", sorted(NEEDS_APPROVAL))
def test_a_cashier_needs_someone_else_to_approve(permission):
    assert approver_needed(Role.CASHIER, permission)
    assert not approver_needed(Role.MANAGER, permission)
    assert not approver_needed(Role.ADMIN, permission)


def test_ordinary_actions_need_no_approver():
    assert not approver_needed(Role.CASHIER, P.TOPUP)
    assert not approver_needed(Role.CASHIER, P.STORED_VALUE_PAY)


@pytest.mark.parametrize("permission", sorted(NEEDS_APPROVAL))
def test_only_a_manager_or_admin_approves(permission):
    check_approver(Role.MANAGER, permission)
    check_approver(Role.ADMIN, permission)
    with pytest.raises(ApprovalRequired):
        check_approver(Role.CASHIER, permission)


def test_approval_missing_names_the_action():
    err = approval_missing(P.CARD_CANCEL)
    assert isinstance(err, ApprovalRequired)
    assert "cancel cards" in err.en and "注销卡" in err.zh
