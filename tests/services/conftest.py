"""Fixtures for the checkout tests: a store with the demo catalogue and an open shift."""

from __future__ import annotations

import pytest

from pos_app.services import shifts
from pos_app.services.catalogue import load_demo_catalogue
from tests.conftest import StoreFixture


@pytest.fixture
def shop(store: StoreFixture) -> StoreFixture:
    load_demo_catalogue(store.ctx, store.manager)
    shifts.open_shift(store.ctx, store.cashier, 50000)
    return store
