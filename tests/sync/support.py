"""Helpers the sync tests share: many real ledger entries quickly."""

from __future__ import annotations

from sqlalchemy import select

from db.models import Operator
from pos_app.domain.permissions import Permission
from pos_app.services.operator_records import record_operator_change
from pos_app.services.use_case import use_case
from tests.conftest import StoreFixture


def add_entries(store: StoreFixture, n: int) -> None:
    """`n` real ledger entries in one transaction of the app's own frame: the admin
    re-records the cashier's operator row (an `operator_changed` entry each time, sealed,
    chained and verified like any other)."""
    with use_case(store.ctx, store.admin, Permission.OPERATOR_MANAGE) as uc:
        op = uc.session.scalars(select(Operator).where(Operator.login == "cashier")).one()
        for _ in range(n):
            record_operator_change(uc, op, "reviewed")
