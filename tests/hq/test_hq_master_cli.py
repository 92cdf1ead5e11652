"""`pos-hq` master data commands (regions, stores in regions, operators, chain rules, the
catalogue and store prices, coupon templates) on SQLite and PostgreSQL alike."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner, Result
from sqlalchemy import select
from sqlalchemy.orm import Session

from hq.cli import main
from hq.engine import open_engine
from hq.models import ChainProduct, ChainRules, FeedChange, HqAudit, HqOperator, Store
from hq.operators import verify_password
from pos_app.domain.secret_hash import verify_secret
from tests.conftest import EXAMPLE_RULES


def hq(url: str, *args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, ["--db", url, "--json", *args], input=stdin)


def ok(url: str, *args: str, stdin: str | None = None) -> dict[str, object]:
    result = hq(url, *args, stdin=stdin)
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert isinstance(data, dict)
    return data


def refused(url: str, code: int, *args: str, stdin: str | None = None) -> dict[str, object]:
    """The command fails with exit `code`, one JSON error object and a zh + en message
    (click's own usage errors, such as a choice not offered, are in English only)."""
    result = hq(url, *args, stdin=stdin)
    assert result.exit_code == code, result.output
    data = json.loads(result.stdout)
    assert set(data) >= {"error", "message"}
    assert "Error" in result.stderr
    assert data["error"] == "usage" or "错误" in result.stderr
    return data


def chain(url: str) -> str:
    ok(url, "init")
    ok(url, "region", "add", "EAST", "--name", "华东")
    ok(url, "store", "add", "SH01", "--name", "南京路店", "--region", "EAST")
    ok(url, "store", "add", "--code", "BJ01", "--name", "朝阳店")
    return url


def rows(url: str, model: type) -> list:  # type: ignore[type-arg]
    engine = open_engine(url)
    try:
        with Session(engine) as session:
            return list(session.scalars(select(model)))
    finally:
        engine.dispose()


def test_regions_and_stores(hq_url: str) -> None:
    chain(hq_url)
    assert refused(hq_url, 1, "region", "add", "EAST", "--name", "又一个")["error"] == (
        "already_exists"
    )
    assert refused(hq_url, 2, "region", "add", "east", "--name", "小写")["error"] == (
        "invalid_input"
    )
    assert refused(hq_url, 1, "store", "add", "SH02", "--name", "店", "--region", "WEST")[
        "error"
    ] == ("not_found")
    refused(hq_url, 2, "store", "add", "--name", "没有代码")
    stores = {s.code: s.region_id for s in rows(hq_url, Store)}
    assert stores["BJ01"] is None and stores["SH01"] is not None and "SH02" not in stores


def test_operators(hq_url: str) -> None:
    chain(hq_url)
    added = ok(
        hq_url, "operator", "add", "li.sh01", "--name", "李店长", "--role", "manager",
        "--scope", "store", "--store", "SH01", "--password-stdin", stdin="s3cret-pw\n",
    )  # fmt: skip
    assert added == {
        "login": "li.sh01", "name": "李店长", "role": "manager", "scope": "store",
        "region": None, "store": "SH01", "active": True,
    }  # fmt: skip
    ok(
        hq_url, "operator", "add", "east", "--name", "区经理", "--role", "admin",
        "--scope", "region", "--region", "EAST", "--password-stdin", stdin="region-pw\n",
    )  # fmt: skip
    base = ("operator", "add", "x.y", "--name", "某人", "--role", "cashier")
    reserved = ("operator", "add", "hq-sync", *base[3:], "--scope", "hq", "--password-stdin")
    for args, stdin in (
        ((*base, "--scope", "store", "--password-stdin"), "long-enough\n"),  # no --store
        ((*base, "--scope", "hq", "--store", "SH01", "--password-stdin"), "long-enough\n"),
        ((*base, "--scope", "store", "--store", "SH01", "--password-stdin"), "short\n"),
        ((*base, "--scope", "store", "--store", "SH01"), "long-enough\n"),  # no stdin flag
        ((*base, "--scope", "planet", "--password-stdin"), "long-enough\n"),
        (reserved, "long-enough\n"),  # the tills' own sync operator
    ):  # fmt: skip
        refused(hq_url, 2, *args, stdin=stdin)
    refused(
        hq_url, 1, "operator", "add", "li.sh01", "--name", "重名", "--role", "cashier",
        "--scope", "hq", "--password-stdin", stdin="another-pw\n",
    )  # fmt: skip
    listed = ok(hq_url, "operator", "list")["operators"]
    assert [(o["login"], o["scope"], o["region"], o["store"]) for o in listed] == [  # type: ignore[union-attr]
        ("east", "region", "EAST", None),
        ("li.sh01", "store", None, "SH01"),
    ]
    assert "password_hash" not in json.dumps(listed)

    ok(hq_url, "operator", "passwd", "li.sh01", "--password-stdin", stdin="changed-pw\n")
    engine = open_engine(hq_url)
    try:
        with Session(engine) as session:
            op = session.scalars(select(HqOperator).where(HqOperator.login == "li.sh01")).one()
            # The till's own hash format: the same check a till's sign-in makes.
            assert verify_secret("changed-pw", op.password_hash)
            assert verify_password(session, "li.sh01", "changed-pw") is not None
            assert verify_password(session, "li.sh01", "s3cret-pw") is None
            assert verify_password(session, "nobody", "changed-pw") is None
    finally:
        engine.dispose()
    assert ok(hq_url, "operator", "deactivate", "li.sh01") == {"login": "li.sh01", "active": False}
    assert refused(hq_url, 1, "operator", "deactivate", "li.sh01")["error"] == "already_inactive"
    refused(hq_url, 1, "operator", "passwd", "nobody", "--password-stdin", stdin="whatever1\n")
    # Added twice and changed twice: each a feed change for the operator's tills.
    assert len([c for c in rows(hq_url, FeedChange) if c.kind == "operator"]) == 4
    actions = [a.action for a in rows(hq_url, HqAudit)]
    assert actions.count("operator.add") == 2 and "operator.deactivate" in actions


def test_rules_publish(hq_url: str, tmp_path: Path) -> None:
    chain(hq_url)
    good = tmp_path / "chain.toml"
    good.write_text(EXAMPLE_RULES.read_text(encoding="utf-8"), encoding="utf-8")
    published = ok(hq_url, "rules", "publish", str(good), "--no-local-promotions")
    assert (published["version"], published["allow_local_promotions"]) == (1, False)
    bad = tmp_path / "bad.toml"
    bad.write_text('label = "x"\n[points]\nper_yuan = "many"\n', encoding="utf-8")
    message = refused(hq_url, 2, "rules", "publish", str(bad))["message"]
    assert "per_yuan" in str(message) and "规则文件错误" in str(message)
    refused(hq_url, 2, "rules", "publish", str(tmp_path / "missing.toml"))
    assert [(r.version, r.allow_local_promotions) for r in rows(hq_url, ChainRules)] == [(1, False)]
    assert ok(hq_url, "rules", "publish", str(good))["version"] == 2


def test_product_import_and_store_price(hq_url: str, tmp_path: Path) -> None:
    chain(hq_url)
    csv = tmp_path / "catalogue.csv"
    csv.write_text("sku,barcodes,name,category,price\nC001,690001,可乐,饮料,3.50\n", "utf-8")
    assert ok(hq_url, "product", "import", str(csv))["created"] == 1
    assert ok(hq_url, "product", "import", str(csv))["unchanged"] == 1
    bad = tmp_path / "bad.csv"
    bad.write_text("sku,name,category,price\nC002,薯片,零食,-1\nC003,饼干,零食,2.00\n", "utf-8")
    problems = refused(hq_url, 2, "product", "import", str(bad))["problems"]
    assert [(p["row"], p["column"]) for p in problems] == [(2, "price")]  # type: ignore[union-attr]
    assert [p.sku for p in rows(hq_url, ChainProduct)] == ["C001"]

    price = ok(hq_url, "product", "price", "c001", "--store", "SH01", "--price", "2.80")
    assert price == {"sku": "C001", "store": "SH01", "price_fen": 280, "member_price_fen": None}
    refused(hq_url, 2, "product", "price", "C001", "--store", "SH01", "--price", "2.8.0")
    refused(
        hq_url, 2, "product", "price", "C001", "--store", "SH01", "--price", "2",
        "--member-price", "3",
    )  # fmt: skip
    refused(hq_url, 1, "product", "price", "NOPE", "--store", "SH01", "--price", "2")
    refused(hq_url, 1, "product", "price", "C001", "--store", "XX99", "--price", "2")


def test_coupon_templates(hq_url: str) -> None:
    chain(hq_url)
    added = ok(
        hq_url, "coupon-template", "add", "--code", "new10", "--name", "新人券",
        "--kind", "amount_off", "--amount", "10", "--threshold", "50", "--days", "30",
    )  # fmt: skip
    assert (added["code"], added["amount_off_fen"], added["threshold_fen"]) == ("NEW10", 1000, 5000)
    refused(
        hq_url, 2, "coupon-template", "add", "--code", "BAD", "--name", "坏",
        "--kind", "amount_off", "--amount", "10", "--threshold", "5", "--days", "30",
    )  # fmt: skip
    refused(
        hq_url, 1, "coupon-template", "add", "--code", "GIFT", "--name", "赠品",
        "--kind", "gift", "--gift-sku", "NOPE", "--days", "30",
    )  # fmt: skip
    assert [t["code"] for t in ok(hq_url, "coupon-template", "list")["templates"]] == ["NEW10"]  # type: ignore[union-attr]
    assert ok(hq_url, "coupon-template", "deactivate", "new10") == {
        "code": "NEW10",
        "active": False,
    }
