"""Screenshots of the HQ console in Chromium, zh_CN and en, on the seeded test chain
(tests/console/chain_seed.py) at a fresh SQLite HQ:  console_screenshot_tour.py OUT_DIR

Run by scripts/take-console-screenshots. Debian's Chromium, driven by Playwright."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Page, sync_playwright
from sqlalchemy import select
from sqlalchemy.orm import Session

from hq import migrate
from hq.engine import open_engine
from hq.models import ChainCard
from hq.server import create_app
from tests.console.chain_seed import CARD, PASSWORD, seed_chain
from tests.hq.signing_till import served

CHROMIUM = "/usr/bin/chromium"
SECRET = "screenshots-only-secret-0123456789abcdef"


def tour(page: Page, base: str, out: Path, lang: str) -> None:
    def shot(name: str) -> None:
        page.screenshot(path=str(out / f"console-{name}-{lang}.png"), full_page=True)

    page.goto(f"{base}/console/sign-in?lang={lang}")
    shot("sign-in")
    page.fill("#login", "admin")
    page.fill("#password", PASSWORD)
    page.click("#sign-in")
    page.wait_for_selector("#tills")
    shot("dashboard")
    page.goto(f"{base}/console/cards/{CARD}")
    shot("card")
    page.goto(f"{base}/console/conflicts")
    shot("conflicts")
    page.goto(f"{base}/console/clearing")
    shot("clearing")
    page.goto(f"{base}/console/reports")
    shot("reports")
    page.click("#sign-out")


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        engine = open_engine(f"sqlite:///{Path(folder) / 'hq.sqlite3'}")
        migrate.upgrade(engine)
        seed_chain(engine)
        with Session(engine) as session:
            assert session.scalar(select(ChainCard.id).where(ChainCard.id == CARD))
        with served(create_app(engine, console_secret=SECRET)) as base, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True)
            for lang in ("zh_CN", "en"):
                context = browser.new_context(viewport={"width": 1280, "height": 800})
                tour(context.new_page(), base, out, lang)
                context.close()
            browser.close()
        engine.dispose()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots"))
