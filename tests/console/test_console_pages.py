"""The console's catalogue, charts and reports."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import hq.console
from hq.console.bar_chart import grouped_bars
from hq.console.i18n import CATALOGUES, EN, ZH_CN
from hq.console.pages import lag_text
from pos_app.domain.money import format_fen
from tests.console.conftest import Console

TEMPLATES_KEYS = re.compile(r"""t\(\s*["']([a-z_]+\.[a-z_]+)["']""")


def test_both_catalogues_have_every_key_the_templates_use():
    folder = Path(hq.console.__file__).parent / "templates"
    used = {
        key for page in folder.glob("*.html") for key in TEMPLATES_KEYS.findall(page.read_text())
    }
    assert used, "the templates use the catalogue"
    assert set(ZH_CN) == set(EN)
    for lang, catalogue in CATALOGUES.items():
        assert used <= set(catalogue), (lang, used - set(catalogue))


def test_the_default_language_is_chinese_and_the_switch_is_kept(console: Console):
    page = console.client.get("/console/sign-in").text
    assert 'lang="zh-CN"' in page and "登录总部控制台" in page
    assert "Sign in to the HQ console" in console.client.get("/console/sign-in?lang=en").text
    assert "Sign in to the HQ console" in console.client.get("/console/sign-in").text
    # Kept across signing in.
    console.sign_in("admin")
    assert "Stores and tills" in console.client.get("/console/dashboard").text
    assert "门店与收银机" in console.client.get("/console/dashboard?lang=zh_CN").text


def test_grouped_bars_draw_one_bar_per_value_with_escaped_labels():
    svg = str(
        grouped_bars(
            ["12-01", "12-02"],
            [("SH01", [100, 250]), ("<BJ01>", [0, -50])],
            format_fen,
            "销售",
        )
    )
    assert svg.startswith("<svg") and svg.count("<rect") == 4 + 2  # bars + legend keys
    assert "&lt;BJ01&gt;" in svg and "<BJ01>" not in svg
    assert "SH01 12-02: ¥2.50" in svg and "-¥0.50" in svg


def test_reports_chart_each_stores_daily_sales(console: Console):
    admin = console.as_("admin")
    page = admin.client.get("/console/reports").text
    assert page.count("<svg") == 2
    # SH01 sold 300 + 40n yuan n days ago (n = 0 … 5); today is the last column.
    sh01 = re.search(r'<tr data-store="SH01">(.*?)</tr>', page, re.S)
    assert sh01 is not None
    cells = re.findall(r'<td class="num">([^<]+)</td>', sh01.group(1))
    assert cells[-2] == "¥300.00" and cells[-3] == "¥340.00" and cells[0] == "¥0.00"
    assert "SH01 " in page and "BJ01 " in page


def test_lag_reads_in_each_language():
    assert lag_text(timedelta(seconds=42)) == "42秒"
    assert lag_text(timedelta(minutes=7, seconds=5), "en") == "7m 05s"
    assert lag_text(timedelta(hours=3, minutes=12)) == "3小时12分"
    assert lag_text(timedelta(days=2, hours=4), "en") == "2d 4h"


def test_the_language_link_keeps_the_pages_query(console: Console):
    admin = console.as_("admin")
    page = admin.client.get("/console/clearing?month=2026-11").text
    link = re.search(r'id="lang-switch" href="([^"]+)"', page)
    assert link is not None
    assert "month=2026-11" in link.group(1) and "lang=en" in link.group(1)
    assert "Monthly clearing 2026-11" in admin.client.get(link.group(1).replace("&amp;", "&")).text
