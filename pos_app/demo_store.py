"""The demo store's public facts: its code and name, its logins and employee cards.

Shared by `pos-app demo` (which builds the store and prints them) and the app's simulator
panel (which offers the cards to tap); they are public by design, for trying the product.
"""

from __future__ import annotations

from dataclasses import dataclass

from pos_app.domain.permissions import Role

DEMO_STORE_CODE = "DEMO01"
DEMO_STORE_NAME = "演示门店 Demo Store"


@dataclass(frozen=True)
class DemoLogin:
    login: str
    password: str  # demo passwords are public by design: they are printed for trying things
    role: Role
    name: str


DEMO_LOGINS = (
    DemoLogin("admin", "admin123", Role.ADMIN, "演示管理员"),
    DemoLogin("manager", "manager123", Role.MANAGER, "李店长"),
    DemoLogin("cashier", "cashier123", Role.CASHIER, "王收银"),
    DemoLogin("cashier2", "cashier456", Role.CASHIER, "赵收银"),
)
# Employee cards (员工卡) to sign in and approve with by a tap; public like the passwords.
# The store keeps only their hash, so the walkthrough (and the demo's panel) must know them;
# letters no member card number of the demo has (hex IC numbers, digits), so they never clash.
DEMO_EMPLOYEE_CARDS = (("manager", "EMP00001"), ("cashier", "EMP00002"), ("cashier2", "EMP00003"))
