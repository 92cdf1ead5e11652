"""Roles and the permission matrix (PRODUCT §11), checked by every service.

Some actions a cashier may start but not finish alone: they need a manager's approval on
the spot, and the approver is recorded on the ledger entry.
"""

from __future__ import annotations

from enum import StrEnum

from pos_app.domain.errors import ApprovalRequired, PermissionDenied


class Role(StrEnum):
    CASHIER = "cashier"
    MANAGER = "manager"
    ADMIN = "admin"


ROLE_RANK = {Role.CASHIER: 0, Role.MANAGER: 1, Role.ADMIN: 2}
ROLE_NAMES = {
    Role.CASHIER: ("收银员", "cashier"),
    Role.MANAGER: ("店长", "manager"),
    Role.ADMIN: ("管理员", "admin"),
}


class Permission(StrEnum):
    MEMBER_REGISTER = "member.register"
    MEMBER_EDIT = "member.edit"
    MEMBER_VIEW = "member.view"
    MEMBER_VIEW_FULL_MOBILE = "member.view_full_mobile"
    MEMBER_IMPORT = "member.import"
    CARD_ISSUE = "card.issue"
    CARD_STOCK_IMPORT = "card.stock_import"
    CARD_REPORT_LOST = "card.report_lost"
    CARD_FOUND = "card.found"
    CARD_FREEZE = "card.freeze"
    CARD_REPLACE = "card.replace"
    CARD_CANCEL = "card.cancel"
    PIN_SET = "card.pin_set"
    PIN_RESET = "card.pin_reset"
    TOPUP = "stored_value.topup"
    TOPUP_REFUND = "stored_value.topup_refund"
    STORED_VALUE_PAY = "stored_value.pay"
    STORED_VALUE_REFUND = "stored_value.refund"
    # 补积分: a walk-in till receipt credited to a member afterwards (amounts from the receipt).
    PURCHASE_RECORD = "purchase.record"
    # A purchase credited with no receipt (points and tier credit): a manager approves it, with
    # a reason, up to the rules' cap.
    PURCHASE_MANUAL = "purchase.manual"
    PURCHASE_REFUND = "purchase.refund"
    POINTS_REDEEM = "points.redeem"
    POINTS_PARTICIPATION = "points.participation"
    POINTS_ADJUST = "points.adjust"
    POINTS_EXPIRE = "points.expire"
    TIER_CHANGE = "tier.change"
    TIER_REVIEW = "tier.review"
    OPERATOR_MANAGE = "operator.manage"
    PASSWORD_CHANGE = "operator.password"  # one's own password
    STORE_EDIT = "store.edit"
    RULES_LOAD = "rules.load"
    AUDIT_VIEW = "audit.view"
    DEMO_DATA = "demo.data"
    PRODUCT_IMPORT = "product.import"
    COUPON_TEMPLATE = "coupon.template"
    COUPON_ISSUE = "coupon.issue"
    COUPON_BATCH = "coupon.batch"
    COUPON_VOID = "coupon.void"
    SALE = "sale.checkout"
    SALE_REFUND = "sale.refund"
    # A refund, or a line voided, above the cashier's limit (rules: checkout.refund_limit).
    SALE_OVER_LIMIT = "sale.over_limit"
    SHIFT = "shift.run"
    # The cash drawer opened outside a cash sale (开钱箱: change for a customer, a device test).
    DRAWER_OPEN = "drawer.open"
    CASH_MOVE = "shift.cash_move"
    REPORT_SHIFT = "report.shift"
    REPORT_STORE = "report.store"
    DAY_CLOSE = "report.day_close"
    # Trust: a manager lets a store found broken by verify record again; backups.
    INTEGRITY_ACKNOWLEDGE = "integrity.acknowledge"
    BACKUP = "backup.make"
    BACKUP_RESTORE = "backup.restore"
    # Connecting the till to HQ (enrolling its sync key): who the store's data goes to.
    SYNC_SETUP = "sync.setup"


# The lowest role allowed to perform each action.
MINIMUM_ROLE: dict[Permission, Role] = {
    Permission.MEMBER_REGISTER: Role.CASHIER,
    Permission.MEMBER_EDIT: Role.CASHIER,
    Permission.MEMBER_VIEW: Role.CASHIER,
    Permission.MEMBER_VIEW_FULL_MOBILE: Role.MANAGER,
    Permission.MEMBER_IMPORT: Role.ADMIN,
    Permission.CARD_ISSUE: Role.CASHIER,
    Permission.CARD_STOCK_IMPORT: Role.MANAGER,
    Permission.CARD_REPORT_LOST: Role.CASHIER,
    Permission.CARD_FOUND: Role.MANAGER,
    Permission.CARD_FREEZE: Role.CASHIER,  # with a manager's approval
    Permission.CARD_REPLACE: Role.CASHIER,
    Permission.CARD_CANCEL: Role.CASHIER,
    Permission.PIN_SET: Role.CASHIER,
    Permission.PIN_RESET: Role.CASHIER,
    Permission.TOPUP: Role.CASHIER,
    Permission.TOPUP_REFUND: Role.CASHIER,
    Permission.STORED_VALUE_PAY: Role.CASHIER,
    Permission.STORED_VALUE_REFUND: Role.CASHIER,
    Permission.PURCHASE_RECORD: Role.CASHIER,
    Permission.PURCHASE_MANUAL: Role.CASHIER,
    Permission.PURCHASE_REFUND: Role.CASHIER,
    Permission.POINTS_REDEEM: Role.CASHIER,
    Permission.POINTS_PARTICIPATION: Role.CASHIER,
    Permission.POINTS_ADJUST: Role.MANAGER,
    Permission.POINTS_EXPIRE: Role.MANAGER,
    Permission.TIER_CHANGE: Role.CASHIER,
    Permission.TIER_REVIEW: Role.MANAGER,
    Permission.OPERATOR_MANAGE: Role.ADMIN,
    Permission.PASSWORD_CHANGE: Role.CASHIER,
    Permission.STORE_EDIT: Role.ADMIN,
    Permission.RULES_LOAD: Role.ADMIN,
    Permission.AUDIT_VIEW: Role.MANAGER,
    Permission.DEMO_DATA: Role.ADMIN,
    Permission.PRODUCT_IMPORT: Role.MANAGER,
    Permission.COUPON_TEMPLATE: Role.MANAGER,
    Permission.COUPON_ISSUE: Role.CASHIER,
    Permission.COUPON_BATCH: Role.MANAGER,
    Permission.COUPON_VOID: Role.MANAGER,
    Permission.SALE: Role.CASHIER,
    Permission.SALE_REFUND: Role.CASHIER,
    Permission.SALE_OVER_LIMIT: Role.CASHIER,
    Permission.SHIFT: Role.CASHIER,
    Permission.DRAWER_OPEN: Role.CASHIER,
    Permission.CASH_MOVE: Role.CASHIER,
    Permission.REPORT_SHIFT: Role.CASHIER,
    Permission.REPORT_STORE: Role.CASHIER,  # with a manager's approval
    Permission.DAY_CLOSE: Role.CASHIER,  # with a manager's approval
    Permission.INTEGRITY_ACKNOWLEDGE: Role.MANAGER,
    Permission.BACKUP: Role.CASHIER,
    Permission.BACKUP_RESTORE: Role.MANAGER,
    Permission.SYNC_SETUP: Role.MANAGER,
}

# Privileged actions: a cashier may do them only with a manager's approval on the spot;
# a manager or admin doing them approves them themselves. Either way the approver is recorded.
NEEDS_APPROVAL = frozenset(
    {
        Permission.PIN_RESET,
        Permission.CARD_CANCEL,
        Permission.CARD_REPLACE,
        Permission.TOPUP_REFUND,
        Permission.STORED_VALUE_REFUND,
        Permission.PURCHASE_REFUND,
        Permission.PURCHASE_MANUAL,
        Permission.POINTS_PARTICIPATION,
        Permission.TIER_CHANGE,
        Permission.SALE_OVER_LIMIT,
        Permission.CARD_FREEZE,
        Permission.REPORT_STORE,
        Permission.DAY_CLOSE,
    }
)

PERMISSION_NAMES: dict[Permission, tuple[str, str]] = {
    Permission.MEMBER_VIEW_FULL_MOBILE: ("查看完整手机号", "see full mobile numbers"),
    Permission.MEMBER_IMPORT: ("导入会员", "import members"),
    Permission.CARD_STOCK_IMPORT: ("导入卡库存", "import card stock"),
    Permission.CARD_FOUND: ("解除挂失", "mark a lost card found"),
    Permission.CARD_FREEZE: ("冻结/解冻卡", "freeze or unfreeze cards"),
    Permission.CARD_REPLACE: ("换卡", "replace cards"),
    Permission.CARD_CANCEL: ("注销卡", "cancel cards"),
    Permission.PIN_RESET: ("重置密码", "reset PINs"),
    Permission.TOPUP_REFUND: ("退充值", "refund top-ups"),
    Permission.STORED_VALUE_REFUND: ("退储值消费", "refund stored-value payments"),
    Permission.PURCHASE_REFUND: ("退货退积分", "refund purchases"),
    Permission.PURCHASE_MANUAL: ("补录无小票消费", "credit a purchase with no receipt"),
    Permission.POINTS_PARTICIPATION: ("赠送活动积分", "give participation points"),
    Permission.POINTS_ADJUST: ("调整积分", "adjust points"),
    Permission.POINTS_EXPIRE: ("执行积分过期", "run points expiry"),
    Permission.TIER_CHANGE: ("手动调整等级", "change tiers by hand"),
    Permission.TIER_REVIEW: ("等级复审", "run the tier review"),
    Permission.OPERATOR_MANAGE: ("管理操作员", "manage operators"),
    Permission.PASSWORD_CHANGE: ("修改密码", "change passwords"),
    Permission.DRAWER_OPEN: ("开钱箱", "open the cash drawer"),
    Permission.STORE_EDIT: ("修改门店信息", "change the store's details"),
    Permission.RULES_LOAD: ("加载规则", "load rules"),
    Permission.AUDIT_VIEW: ("查看审计日志", "view the audit trail"),
    Permission.DEMO_DATA: ("生成演示数据", "create demo data"),
    Permission.PRODUCT_IMPORT: ("导入商品", "import products"),
    Permission.COUPON_TEMPLATE: ("管理优惠券模板", "manage coupon templates"),
    Permission.COUPON_ISSUE: ("发放优惠券", "issue coupons"),
    Permission.COUPON_BATCH: ("批量生成券码", "make batches of coupon codes"),
    Permission.COUPON_VOID: ("作废优惠券", "void coupons"),
    Permission.SALE_REFUND: ("退货", "refund sales"),
    Permission.SALE_OVER_LIMIT: (
        "超限额退货/删除商品/改价/折扣/抹零",
        "refund, void, price change, discount or rounding above the cashier's limit",
    ),
    Permission.REPORT_STORE: ("查看门店报表", "view store reports"),
    Permission.DAY_CLOSE: ("日结", "close the day"),
    Permission.INTEGRITY_ACKNOWLEDGE: ("确认账本校验问题", "acknowledge a failed verify"),
    Permission.BACKUP: ("备份数据", "back up the store"),
    Permission.BACKUP_RESTORE: ("从备份恢复", "restore the store from a backup"),
    Permission.SYNC_SETUP: ("连接总部", "connect the till to HQ"),
}


def role_allows(role: Role, permission: Permission) -> bool:
    return ROLE_RANK[role] >= ROLE_RANK[MINIMUM_ROLE[permission]]


def check_permission(role: Role, permission: Permission) -> None:
    """Refuse if the role may not perform the action at all."""
    if not role_allows(role, permission):
        zh, en = PERMISSION_NAMES.get(permission, (permission.value, permission.value))
        zh_role, en_role = ROLE_NAMES[role]
        raise PermissionDenied(f"{zh_role}无权{zh}", f"A {en_role} is not allowed to {en}")


def approver_needed(role: Role, permission: Permission) -> bool:
    """Whether someone other than the actor must approve (a cashier doing a privileged act)."""
    return permission in NEEDS_APPROVAL and ROLE_RANK[role] < ROLE_RANK[Role.MANAGER]


def check_approver(approver_role: Role, permission: Permission) -> None:
    if ROLE_RANK[approver_role] < ROLE_RANK[Role.MANAGER]:
        zh, en = PERMISSION_NAMES.get(permission, (permission.value, permission.value))
        raise ApprovalRequired(
            f"{zh}需要店长或管理员授权", f"Only a manager or admin can approve: {en}"
        )


def approval_missing(permission: Permission) -> ApprovalRequired:
    zh, en = PERMISSION_NAMES.get(permission, (permission.value, permission.value))
    return ApprovalRequired(f"{zh}需要店长授权", f"A manager must approve: {en}")
