"""Fixtures for the checkout tests: a store with the demo catalogue and an open shift."""

from __future__ import annotations

import pytest

from pos_app.services.catalogue import load_demo_catalogue
from tests.conftest import StoreFixture


@pytest.fixture
def shop(store: StoreFixture) -> StoreFixture:
    load_demo_catalogue(store.ctx, store.manager)
    store.at_till(store.cashier, 50000)
    return store


@pytest.fixture
def till(store: StoreFixture) -> StoreFixture:
    """The cashier's shift is open: top-ups, their refunds and card cancellations with a
    refund happen in it, as at a real till."""
    store.at_till(store.cashier)
    return store
