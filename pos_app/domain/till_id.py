"""A till's id: the store's code, a dash, two digits ("SH01-02" is till 02 of store SH01).

One installation is one till. Its ledger chain, sequence and receipt numbers are its own, so
the id is part of every entry and receipt number it writes: it must name the till's own store,
and two tills of one store differ only in the number.
"""

from __future__ import annotations

import re

from pos_app.domain.errors import InvalidInput

_TILL_NUMBER = re.compile(r"\d{2}")


def default_till_id(store_code: str) -> str:
    """The first till of a store: `<code>-01` (what a store made before tills had ids became)."""
    return f"{store_code}-01"


def check_till_id(store_code: str, text: str) -> str:
    """The till id typed for a store, trimmed and upper-cased; refused unless it is the store's
    code, a dash and a number 01–99."""
    till_id = text.strip().upper()
    prefix, dash, number = till_id.rpartition("-")
    if not dash or not _TILL_NUMBER.fullmatch(number) or number == "00":
        raise InvalidInput(
            f"收银机编号不正确：{text!r}（门店编码-两位数字，例如 {store_code}-02）",
            f"Not a valid till id: {text!r} (store code, a dash, two digits, "
            f"for example {store_code}-02)",
        )
    if prefix != store_code:
        raise InvalidInput(
            f"收银机编号 {till_id} 不属于门店 {store_code}（应以 {store_code}- 开头）",
            f"Till {till_id} is not a till of store {store_code} "
            f"(it must start with {store_code}-)",
        )
    return till_id
