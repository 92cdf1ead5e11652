"""Chain rules: published at HQ, in force at the till after the feed applies them, and a
store's own promotions on top only where HQ allows them."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from db.engine import read_session
from db.models import Operator, RulesVersion
from hq.chain_rules import RULES_KEY, publish_rules
from pos_app.cli.main import cli
from pos_app.domain.errors import RulesError
from pos_app.services.rules import load_rules, show_rules
from tests.chain.master_support import NOW, ChainHq, apply_item, chain_hq
from tests.conftest import EXAMPLE_RULES, PASSWORD, StoreFixture
from tests.test_cli import POS_ENV, make_runner, one_json

__all__ = ["chain_hq"]

HQ_CODES = ["APPLE3X", "VEG-TUE", "GIFT100"]
STORE_PROMOTION = """
[[promotion]]
code = "SH01-TEA"
kind = "category_discount"
name = "本店茶饮9折"
name_en = "Tea 10% off at this store"
categories = ["茶饮"]
weekdays = [1, 2, 3, 4, 5]
percent_off = 10
"""


def chain_text(label: str) -> str:
    text = EXAMPLE_RULES.read_text(encoding="utf-8")
    return text.replace('label = "2026 标准规则 / standard rules"', f'label = "{label}"')


def publish_and_apply(hq: ChainHq, store: StoreFixture, label: str, allow: bool = True) -> int:
    with hq.session() as session, session.begin():
        version = publish_rules(session, chain_text(label), NOW, allow_local_promotions=allow)
        number = version.version
    item = hq.item("rules", RULES_KEY, "SH01-01")
    assert item is not None and item["version"] == number
    apply_item(store, "rules", item)
    return number


def codes(store: StoreFixture) -> list[str]:
    return [p.code for p in show_rules(store.ctx).rules.promotions]


def test_rules_published_at_hq_are_in_force_at_the_till(
    chain_hq: ChainHq, store: StoreFixture
) -> None:
    before = show_rules(store.ctx).version
    publish_and_apply(chain_hq, store, "连锁规则 v1")
    again = chain_hq.item("rules", RULES_KEY, "BJ01-01")
    assert again is not None
    apply_item(store, "rules", again)  # the same HQ version again: no new version
    loaded = show_rules(store.ctx)
    assert (loaded.version, loaded.label) == (before + 1, "连锁规则 v1")
    with read_session(store.ctx.engine) as s:
        row = s.get(RulesVersion, loaded.version)
        assert row is not None and row.hq_version == 1 and row.hq_allows_local_promotions
        loader = s.get(Operator, row.loaded_by_id)
        assert loader is not None and (loader.login, loader.active) == ("hq-sync", False)
        assert s.scalars(select(RulesVersion.hq_version)).all()[-1] == 1


def test_a_store_adds_its_own_promotions_where_hq_allows(
    chain_hq: ChainHq, store: StoreFixture
) -> None:
    publish_and_apply(chain_hq, store, "连锁规则 v1")
    loaded = load_rules(store.ctx, store.admin, STORE_PROMOTION, "sh01-promotions.toml")
    assert loaded.label == "连锁规则 v1"
    assert codes(store) == [*HQ_CODES, "SH01-TEA"]
    # HQ publishes again: the store's promotion stays on top of the new rules.
    publish_and_apply(chain_hq, store, "连锁规则 v2")
    assert show_rules(store.ctx).label == "连锁规则 v2"
    assert codes(store) == [*HQ_CODES, "SH01-TEA"]
    with read_session(store.ctx.engine) as s:
        newest = s.scalars(select(RulesVersion).order_by(RulesVersion.version.desc())).first()
        assert newest is not None and newest.hq_version == 2
    # Anything but promotions is HQ's to set.
    with pytest.raises(RulesError) as refused:
        load_rules(store.ctx, store.admin, EXAMPLE_RULES.read_text(encoding="utf-8"), "full")
    assert refused.value.code == "rules_hq_managed" and "[[promotion]]" in refused.value.zh
    # A file with no promotions takes the store's off again.
    load_rules(store.ctx, store.admin, "promotion = []  # 本店暂无促销\n", "none.toml")
    assert codes(store) == HQ_CODES


def test_a_local_rules_load_is_refused_where_hq_allows_no_promotions(
    chain_hq: ChainHq, store: StoreFixture
) -> None:
    publish_and_apply(chain_hq, store, "连锁规则 v1")
    load_rules(store.ctx, store.admin, STORE_PROMOTION, "sh01-promotions.toml")
    # HQ withdraws the permission: its next rules leave the store's promotion out ...
    publish_and_apply(chain_hq, store, "连锁规则 v2", allow=False)
    assert codes(store) == HQ_CODES
    # ... and the till refuses a local load.
    version = show_rules(store.ctx).version
    with pytest.raises(RulesError) as refused:
        load_rules(store.ctx, store.admin, STORE_PROMOTION, "sh01-promotions.toml")
    assert refused.value.code == "rules_hq_managed"
    assert "HQ" in refused.value.en and "总部" in refused.value.zh
    assert show_rules(store.ctx).version == version


def test_a_store_promotion_clashing_with_hq_is_left_out(
    chain_hq: ChainHq, store: StoreFixture
) -> None:
    publish_and_apply(chain_hq, store, "连锁规则 v1")
    load_rules(store.ctx, store.admin, STORE_PROMOTION, "sh01-promotions.toml")
    clash = chain_text("连锁规则 v2") + STORE_PROMOTION.replace("本店茶饮9折", "连锁茶饮9折")
    with chain_hq.session() as session, session.begin():
        publish_rules(session, clash, NOW)
    apply_item(store, "rules", chain_hq.item("rules", RULES_KEY, "SH01-01") or {})
    promotions = show_rules(store.ctx).rules.promotions
    assert [(p.code, p.name) for p in promotions][-1] == ("SH01-TEA", "连锁茶饮9折")
    assert len(promotions) == 4


def test_pos_app_rules_load_says_why_in_both_languages(
    chain_hq: ChainHq, store: StoreFixture, tmp_path: Path
) -> None:
    publish_and_apply(chain_hq, store, "连锁规则 v1", allow=False)
    path = tmp_path / "promotions.toml"
    path.write_text(STORE_PROMOTION, encoding="utf-8")
    env: dict[str, str | None] = dict.fromkeys(POS_ENV)
    env.update(POS_OPERATOR="admin", POS_PASSWORD=PASSWORD)
    for lang, says in (("zh", "总部"), ("en", "HQ")):
        argv = ["--data-dir", str(store.data_dir), "--json", "--lang", lang]
        argv += ["rules", "load", str(path)]
        result = make_runner().invoke(cli, argv, env=env, catch_exceptions=False)
        assert result.exit_code == 2
        assert one_json(result.stdout)["error"] == "rules_hq_managed"
        assert says in result.stderr
