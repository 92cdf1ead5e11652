"""The console in a real browser: Debian's Chromium, driven by Playwright (its own browser
download is not reachable here), against the HQ app served by uvicorn in a thread.

Without Chromium a developer's run skips these; under CI=true that is a failure."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from sqlalchemy.orm import Session

from hq.models import ChainCard
from hq.server import create_app
from tests.console.chain_seed import CARD, CARD_NO, OTHER_CARD, PASSWORD
from tests.console.conftest import SECRET, Console
from tests.hq.signing_till import served

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not shutil.which(CHROMIUM):
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{CHROMIUM} is required in CI (apt-get install chromium)")
        pytest.skip(f"no {CHROMIUM}")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def base_url(console: Console) -> Iterator[str]:
    with served(create_app(console.engine, console.clock, console_secret=SECRET)) as url:
        yield url


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    yield context.new_page()
    context.close()


def sign_in(page: Page, base_url: str, login: str) -> None:
    page.goto(f"{base_url}/console/")
    expect(page.locator("h1")).to_have_text("登录总部控制台")
    page.fill("#login", login)
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    expect(page.locator(".viewer")).to_have_attribute("data-login", login)


def test_hq_admin_finds_a_card_used_in_two_stores_and_freezes_it(
    page: Page, base_url: str, console: Console
):
    sign_in(page, base_url, "admin")
    expect(page.locator("#tills tbody tr")).to_have_count(3)
    expect(page.locator('tr[data-till="SH02-01"]')).to_have_class("unreachable")
    page.click("text=会员与卡查询")
    page.fill("#q", CARD_NO)
    page.click("#look-up")
    expect(page.locator("h1")).to_have_text(f"卡 {CARD_NO}")
    expect(page.locator('#history tr[data-store="SH01"]')).to_have_count(3)
    expect(page.locator('#history tr[data-store="BJ01"]')).to_have_count(1)
    expect(page.locator("#total")).to_have_text("¥350.00")
    expect(page.locator("#card-state")).to_have_text("正常")
    page.click("#card-freeze")
    expect(page.locator("#card-state")).to_have_text("已冻结")
    expect(page.locator(".flash.ok")).to_be_visible()
    with Session(console.engine) as session:
        card = session.get(ChainCard, CARD)
        assert card is not None and (card.state, card.state_source) == ("frozen", "hq:admin")
    page.click("#sign-out")
    expect(page.locator("h1")).to_have_text("登录总部控制台")


def test_a_store_manager_sees_only_their_store_in_the_browser(page: Page, base_url: str):
    sign_in(page, base_url, "bj")
    rows = page.locator("#tills tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-till", "BJ01-01")
    page.goto(f"{base_url}/console/lookup?q={CARD_NO}")
    expect(page.locator("h1")).to_have_text("卡 8800****7890")
    expect(page.locator('#history tr[data-store="SH01"]')).to_have_count(0)
    expect(page.locator('#history tr[data-store="BJ01"]')).to_have_count(1)
    response = page.goto(f"{base_url}/console/cards/{OTHER_CARD}")
    assert response is not None and response.status == 404
    expect(page.locator(".flash.error")).to_have_text("没有找到，或您无权查看")


def test_switching_the_language(page: Page, base_url: str):
    sign_in(page, base_url, "east")
    expect(page.locator("h1")).to_have_text("门店与收银机")
    page.click("#lang-switch")
    expect(page.locator("h1")).to_have_text("Stores and tills")
    page.click("text=Chain reports")
    expect(page.locator("h1")).to_have_text("Chain reports")
    expect(page.locator("#sales-chart svg rect").first).to_be_visible()
    page.click("#lang-switch")
    expect(page.locator("h1")).to_have_text("连锁报表")
