"""Who may see what in the HQ console: sign-in, lockout, CSRF, and scoping enforced in the
queries (another store's till, card or member is not found, whatever the menus show)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from hq.models import HqAudit, HqOperator
from tests.console.chain_seed import (
    CARD,
    CARD_NO,
    MEMBER,
    MOBILE,
    OTHER_CARD,
    OTHER_CARD_NO,
    OTHER_MEMBER,
)
from tests.console.conftest import Console


def audits(console: Console, action: str) -> list[tuple[str | None, str]]:
    with Session(console.engine) as session:
        rows = session.execute(
            select(HqAudit.actor, HqAudit.outcome)
            .where(HqAudit.action == action)
            .order_by(HqAudit.id)
        )
        return [(actor, outcome) for actor, outcome in rows]


def test_pages_need_a_signed_in_operator(console: Console):
    for path in ("/console/dashboard", f"/console/cards/{CARD}", "/console/reports"):
        response = console.client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].endswith("/console/sign-in")


def test_sign_in_sets_a_http_only_lax_cookie_and_sign_out_ends_it(console: Console):
    response = console.sign_in("admin")
    assert response.status_code == 303
    cookie = response.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "path=/console" in cookie
    page = console.client.get("/console/dashboard")
    assert page.status_code == 200 and 'data-login="admin"' in page.text
    signed_out = console.post("/console/sign-out", {}, "/console/dashboard")
    assert signed_out.status_code == 303
    again = console.client.get("/console/dashboard", follow_redirects=False)
    assert again.status_code == 303
    assert audits(console, "sign_in") == [("admin", "ok")]


def test_wrong_password_and_unknown_login_get_the_same_generic_error(console: Console):
    wrong = console.sign_in("admin", "not-the-password")
    unknown = console.sign_in("nobody", "not-the-password")
    assert wrong.status_code == unknown.status_code == 401
    assert "登录名或密码不正确" in wrong.text and "登录名或密码不正确" in unknown.text
    assert console.client.get("/console/dashboard", follow_redirects=False).status_code == 303
    assert audits(console, "sign_in") == [("admin", "failed"), ("nobody", "failed")]


def test_a_cashier_may_not_use_the_console(console: Console):
    response = console.sign_in("cashier")
    assert response.status_code == 401
    assert "无权使用总部控制台" in response.text
    assert audits(console, "sign_in") == [("cashier", "refused")]


def test_five_failures_lock_the_login_for_15_minutes(console: Console):
    for _ in range(5):
        assert console.sign_in("bj", "wrong").status_code == 401
    locked = console.sign_in("bj")  # the right password, but locked
    assert locked.status_code == 401 and "锁定 15 分钟" in locked.text
    assert console.client.get("/console/dashboard", follow_redirects=False).status_code == 303
    console.clock.advance(timedelta(minutes=14, seconds=59))
    assert console.sign_in("bj").status_code == 401
    console.clock.advance(timedelta(seconds=2))
    assert console.sign_in("bj").status_code == 303
    assert audits(console, "sign_in") == (
        [("bj", "failed")] * 5 + [("bj", "locked")] * 2 + [("bj", "ok")]
    )
    # Another login was never locked by bj's failures.
    assert console.as_("admin").client.get("/console/dashboard").status_code == 200


def test_a_success_resets_the_count_of_failures(console: Console):
    for _ in range(4):
        console.sign_in("bj", "wrong")
    assert console.sign_in("bj").status_code == 303
    console.client.cookies.clear()
    for _ in range(4):
        console.sign_in("bj", "wrong")
    assert console.sign_in("bj").status_code == 303


def test_posts_without_the_sessions_csrf_token_are_refused(console: Console):
    console.client.cookies.clear()
    no_token = console.client.post(
        "/console/sign-in", data={"login": "admin", "password": "x"}, follow_redirects=False
    )
    assert no_token.status_code == 403
    console.as_("admin")
    forged = console.client.post(
        f"/console/cards/{CARD}/state",
        data={"action": "freeze", "csrf": "forged"},
        follow_redirects=False,
    )
    assert forged.status_code == 403
    missing = console.client.post(
        f"/console/cards/{CARD}/state", data={"action": "freeze"}, follow_redirects=False
    )
    assert missing.status_code == 403
    card = console.client.get(f"/console/cards/{CARD}").text
    assert 'data-state="active"' in card
    assert audits(console, "card_state") == []


def test_a_store_manager_sees_only_their_store(console: Console):
    bj = console.as_("bj")
    dashboard = bj.client.get("/console/dashboard").text
    assert 'data-till="BJ01-01"' in dashboard
    assert 'data-till="SH01-01"' not in dashboard and 'data-till="SH02-01"' not in dashboard
    assert bj.client.get("/console/tills/BJ01-01").status_code == 200
    assert bj.client.get("/console/tills/SH01-01").status_code == 404
    # SH02's card and member never came to BJ01: not found, by id or by search.
    assert bj.client.get(f"/console/cards/{OTHER_CARD}").status_code == 404
    assert bj.client.get(f"/console/members/{OTHER_MEMBER}").status_code == 404
    assert 'id="not-found"' in bj.client.get(f"/console/lookup?q={OTHER_CARD_NO}").text
    frozen = bj.post(
        f"/console/cards/{OTHER_CARD}/state", {"action": "freeze"}, "/console/dashboard"
    )
    assert frozen.status_code == 404
    assert audits(console, "card_state") == []
    # The card spent at BJ01 is theirs to see: masked, with BJ01's entries only, and
    # the chain's balance (topped up 500 + 50 at SH01, spent 120 there and 80 here).
    card = bj.client.get(f"/console/cards/{CARD}").text
    assert CARD_NO not in card and "8800****7890" in card
    assert 'data-store="BJ01"' in card and 'data-store="SH01"' not in card
    assert '<dd id="total" class="">¥350.00</dd>' in card
    member = bj.client.get(f"/console/members/{MEMBER}").text
    assert MOBILE not in member and "139****1111" in member


def test_a_region_manager_sees_their_regions_stores(console: Console):
    east = console.as_("east")
    dashboard = east.client.get("/console/dashboard").text
    assert 'data-till="SH01-01"' in dashboard and 'data-till="SH02-01"' in dashboard
    assert 'data-till="BJ01-01"' not in dashboard
    assert east.client.get("/console/tills/BJ01-01").status_code == 404
    assert east.client.get(f"/console/cards/{OTHER_CARD}").status_code == 200
    card = east.client.get(f"/console/cards/{CARD}").text
    assert 'data-store="SH01"' in card and 'data-store="BJ01"' not in card
    reports = east.client.get("/console/reports").text
    assert 'data-store="SH01"' in reports and 'data-store="BJ01"' not in reports


def test_the_hq_admin_sees_the_whole_chain_unmasked(console: Console):
    admin = console.as_("admin")
    dashboard = admin.client.get("/console/dashboard").text
    for till in ("SH01-01", "SH02-01", "BJ01-01"):
        assert f'data-till="{till}"' in dashboard
    # SH02's till was last seen two days ago: flagged.
    assert 'class="unreachable" data-till="SH02-01"' in dashboard
    assert 'class="" data-till="SH01-01"' in dashboard
    found = admin.client.get(f"/console/lookup?q={MOBILE}", follow_redirects=False)
    assert found.status_code == 303 and found.headers["location"].endswith(MEMBER)
    card = admin.client.get(f"/console/lookup?q={CARD_NO}").text
    assert CARD_NO in card
    assert 'data-store="SH01"' in card and 'data-store="BJ01"' in card
    assert admin.client.get(f"/console/members/{MEMBER}").text.count(MOBILE) == 1


def test_a_deactivated_operators_session_ends(console: Console):
    bj = console.as_("bj")
    assert bj.client.get("/console/dashboard").status_code == 200
    with Session(console.engine) as session, session.begin():
        operator = session.scalars(select(HqOperator).where(HqOperator.login == "bj")).one()
        operator.active = False
    assert bj.client.get("/console/dashboard", follow_redirects=False).status_code == 303


def test_pages_are_not_cached_framed_or_scripted_and_bad_forms_get_a_page(console: Console):
    admin = console.as_("admin")
    page = admin.client.get(f"/console/cards/{CARD}")
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert "script-src 'none'" in page.headers["content-security-policy"]
    token = console.csrf(f"/console/cards/{CARD}")
    bad = admin.client.post(f"/console/cards/{CARD}/state", data={"csrf": token})
    assert bad.status_code == 422 and "表单内容不完整" in bad.text
