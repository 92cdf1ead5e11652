"""A store's own promotions on top of the chain's rules (docs/chain-protocol.md, "Master data
from HQ"). Where HQ allows it, `pos-app rules load` on an HQ-ruled till takes only the file's
[[promotion]] tables and appends them, below a marker line, to the rules HQ published; the
rules version in force is then HQ's text, the marker and the store's promotions. When HQ
publishes again the till appends the same promotions to the new text (if HQ still allows
them and they still fit), so a store keeps its promotions across chain updates.

A store's file `promotion = []` takes its promotions off again.
"""

from __future__ import annotations

import tomllib
from typing import Any

from pos_app.domain.errors import RulesError

MARKER = "# --- 本店促销 Store's own promotions, added to HQ's rules at this till ---"
_SEPARATOR = f"\n{MARKER}\n"


def split_rules_text(text: str) -> tuple[str, str]:
    """(HQ's text, the store's promotions text) of a stored rules version ("" for none)."""
    hq_text, _, local_text = text.partition(_SEPARATOR)
    return hq_text, local_text


def check_promotions_only(text: str) -> None:
    """Refuse a store's file that sets anything but promotions: on an HQ-ruled till the rest
    is HQ's to set."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RulesError(
            f"规则文件不是有效的 TOML：{exc}", f"The rules file is not valid TOML: {exc}"
        ) from None
    others = sorted(key for key in data if key != "promotion")
    if others:
        names = ", ".join(others)
        raise RulesError(
            f"本机的规则由总部发布：门店只能加载自己的促销（[[promotion]]），请删去 {names}",
            f"This till's rules come from HQ: a store may only load promotions of its own "
            f"([[promotion]]); remove {names}",
            code="rules_hq_managed",
        )


def merge_promotions(hq_text: str, local_text: str) -> str:
    """HQ's rules text with the store's [[promotion]] tables appended, checked to read as
    HQ's rules plus those promotions and nothing else (an inline `promotion = [...]` array
    would land inside HQ's last table)."""
    check_promotions_only(local_text)
    local: dict[str, Any] = tomllib.loads(local_text)
    if not local.get("promotion"):
        return hq_text
    merged = hq_text.rstrip("\n") + "\n" + _SEPARATOR + local_text.strip("\n") + "\n"
    base = tomllib.loads(hq_text)
    expected = {**base, "promotion": [*base.get("promotion", []), *local["promotion"]]}
    try:
        fits = tomllib.loads(merged) == expected
    except tomllib.TOMLDecodeError:
        fits = False
    if not fits:
        raise RulesError(
            "门店促销须写成 [[promotion]] 表，才能加在总部规则之后",
            "A store's promotions must be written as [[promotion]] tables to go after HQ's rules",
            code="rules_hq_managed",
        )
    return merged
