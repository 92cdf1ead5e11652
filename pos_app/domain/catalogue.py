"""The product catalogue's rules: what a product row in an import file may say, and whether a
whole file can be imported against the products already in the store.

Pure: the service reads the file into cells and loads the products already there; this module
turns them into products and a list of problems, each with the row as a spreadsheet numbers
it (the header is row 1), the column and the reason in Chinese and English.

Columns (English or Chinese names, any order):

    sku, name, category, price              required
    barcodes                                several, separated by | or ;
    name_en, unit (件), kind (goods), member_price, earns_points (yes), takes_discounts (yes),
    sold_by_weight (no)                     yes: sold by weight (散称), priced per unit, which
                                            must then be kg (千克, 公斤) or 斤
    pass_services, pass_valid_days           for the card kinds
    active (yes)                            whether the product is on sale

Import is an upsert by SKU. An optional column left out of the file leaves what an existing
product has (a price-only file keeps the barcodes, kinds and flags); for a new product it
means the default. An empty cell means the default (or "none" for barcodes, member price and
the English name).

Card kinds grant a member a service pass when sold; their `pass_spec` is stored as JSON:
    {"services": {"<service SKU>": <uses, or null for unlimited>}, "valid_days": <days>}
Count, trial and package cards give a number of uses of each service; a time card gives
unlimited use of its services until it expires.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from pos_app.domain.control_chars import has_control_chars, refuse_control_chars, shown
from pos_app.domain.errors import InvalidInput
from pos_app.domain.money import MAX_PRICE_FEN, parse_yuan
from pos_app.domain.typed_numbers import parse_whole_number
from pos_app.domain.weighed_goods import weight_unit

# What a reader hands over for one cell: text from a CSV; numbers or booleans from XLSX.
Cell = str | int | float | bool | None


class ProductKind(StrEnum):
    GOODS = "goods"
    SERVICE = "service"
    COUNT_CARD = "count_card"
    TIME_CARD = "time_card"
    PACKAGE = "package"
    TRIAL_CARD = "trial_card"


# Selling one of these grants a service pass described by the product's pass_spec.
CARD_KINDS = frozenset(
    {ProductKind.COUNT_CARD, ProductKind.TIME_CARD, ProductKind.PACKAGE, ProductKind.TRIAL_CARD}
)
KIND_NAMES: dict[ProductKind, tuple[str, str]] = {
    ProductKind.GOODS: ("商品", "goods"),
    ProductKind.SERVICE: ("服务", "service"),
    ProductKind.COUNT_CARD: ("次卡", "count card"),
    ProductKind.TIME_CARD: ("时限卡", "time card"),
    ProductKind.PACKAGE: ("套餐", "package"),
    ProductKind.TRIAL_CARD: ("体验卡", "trial card"),
}
KIND_WORDS: dict[str, ProductKind] = {
    **{k.value: k for k in ProductKind},
    **{zh: k for k, (zh, _) in KIND_NAMES.items()},
    "计次卡": ProductKind.COUNT_CARD,
    "期限卡": ProductKind.TIME_CARD,
    "时间卡": ProductKind.TIME_CARD,
    "套餐卡": ProductKind.PACKAGE,
}

COLUMNS = (
    "sku",
    "barcodes",
    "name",
    "name_en",
    "category",
    "unit",
    "kind",
    "price",
    "member_price",
    "earns_points",
    "takes_discounts",
    "pass_services",
    "pass_valid_days",
    "active",
    "sold_by_weight",
)
REQUIRED = ("sku", "name", "category", "price")
# Header names as people write them; English names are matched ignoring case, spaces and "-".
ALIASES = {
    "编码": "sku",
    "商品编码": "sku",
    "货号": "sku",
    "条码": "barcodes",
    "条形码": "barcodes",
    "barcode": "barcodes",
    "名称": "name",
    "商品名称": "name",
    "品名": "name",
    "英文名": "name_en",
    "英文名称": "name_en",
    "分类": "category",
    "类别": "category",
    "单位": "unit",
    "类型": "kind",
    "商品类型": "kind",
    "售价": "price",
    "零售价": "price",
    "价格": "price",
    "会员价": "member_price",
    "积分": "earns_points",
    "参与积分": "earns_points",
    "参与折扣": "takes_discounts",
    "折扣": "takes_discounts",
    "次卡服务": "pass_services",
    "包含服务": "pass_services",
    "服务项目": "pass_services",
    "有效天数": "pass_valid_days",
    "有效期天数": "pass_valid_days",
    "在售": "active",
    "启用": "active",
    "称重": "sold_by_weight",
    "散称": "sold_by_weight",
    "计重": "sold_by_weight",
}
COLUMN_NAMES_ZH = {
    "sku": "编码",
    "barcodes": "条码",
    "name": "名称",
    "name_en": "英文名",
    "category": "分类",
    "unit": "单位",
    "kind": "类型",
    "price": "售价",
    "member_price": "会员价",
    "earns_points": "积分",
    "takes_discounts": "参与折扣",
    "pass_services": "次卡服务",
    "pass_valid_days": "有效天数",
    "active": "在售",
    "sold_by_weight": "称重",
}
DEFAULT_UNIT = "件"
MAX_LENGTHS = {"sku": 32, "name": 80, "name_en": 80, "category": 40, "unit": 8, "barcode": 32}
MAX_PASS_USES = 9999  # as pos_app.domain.passes accepts when the card is sold
MAX_VALID_DAYS = 3660  # ten years; more is a typing mistake

FLAG_WORDS = {
    **dict.fromkeys(("yes", "y", "true", "t", "1", "是", "参与", "on"), True),
    **dict.fromkeys(("no", "n", "false", "f", "0", "否", "不参与", "off"), False),
}
_SKU = re.compile(r"[A-Z0-9][A-Z0-9._/-]{0,31}")
_BARCODE = re.compile(r"[0-9A-Za-z][0-9A-Za-z._/-]{0,31}")
# What Excel shows (and saves to CSV) for a long number in a General cell: digits are lost.
_SCIENTIFIC = re.compile(r"[0-9](?:\.[0-9]+)?[eE][+]?[0-9]+")
_LIST_SEPARATORS = re.compile(r"[|;；｜,，]")
_PASS_ITEM = re.compile(r"([^*×xX]+?)\s*(?:[*×]\s*(.*))?")


@dataclass(frozen=True)
class RowProblem:
    """One problem in the file: its row (header = row 1), the column, the reason."""

    row: int
    column: str
    reason_zh: str
    reason: str
    value: str = ""

    def message(self, lang: str = "zh") -> str:
        if lang.startswith("en"):
            where = f"row {self.row}, {self.column}" if self.column else f"row {self.row}"
            return f"{where}: {self.reason}"
        where = f"第 {self.row} 行，{self.column}" if self.column else f"第 {self.row} 行"
        return f"{where}：{self.reason_zh}"


@dataclass(frozen=True)
class CatalogueProduct:
    """A product as the catalogue holds it (barcodes sorted; prices in fen)."""

    sku: str
    name: str
    category: str
    price_fen: int
    barcodes: tuple[str, ...] = ()
    name_en: str | None = None
    unit: str = DEFAULT_UNIT
    kind: str = ProductKind.GOODS.value
    member_price_fen: int | None = None
    earns_points: bool = True
    takes_discounts: bool = True
    pass_spec: str | None = None
    active: bool = True
    sold_by_weight: bool = False


@dataclass(frozen=True)
class PlannedProduct:
    """A good row of the file and the product it makes."""

    row: int
    product: CatalogueProduct
    existed: bool  # the SKU is already in the catalogue (an update, or nothing to change)
    changed: bool  # False: the catalogue already holds exactly this product


@dataclass
class CatalogueCheck:
    """The file checked: the products it would write and every problem found."""

    rows: int = 0  # data rows (blank lines not counted)
    header_ok: bool = True
    planned: list[PlannedProduct] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)
    bad_rows: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def pass_spec_text(services: Mapping[str, int | None], valid_days: int) -> str:
    """The stored JSON of a card's pass: one canonical form, so equal specs compare equal."""
    return json.dumps(
        {"services": dict(services), "valid_days": valid_days},
        ensure_ascii=False,
        sort_keys=True,
    )


def check_pass_services(
    kind: ProductKind, services: Mapping[str, int | None]
) -> list[tuple[str, str]]:
    """Problems (zh, en) with the use counts a card kind gives; empty when they are right."""
    if not services:
        return [("缺少次卡服务", "no services given for the card")]
    problems: list[tuple[str, str]] = []
    for sku, uses in services.items():
        if kind is ProductKind.TIME_CARD:
            if uses is not None:
                problems.append(
                    (
                        f"时限卡在有效期内不限次数，{sku} 不要写次数",
                        f"a time card gives unlimited use: give {sku} without a count",
                    )
                )
        elif uses is None:
            problems.append(
                (f"{sku} 缺少次数（例如 {sku}*10）", f"{sku} needs a count (e.g. {sku}*10)")
            )
        elif not 1 <= uses <= MAX_PASS_USES:
            problems.append(
                (
                    f"{sku} 的次数必须在 1 到 {MAX_PASS_USES} 之间",
                    f"the count for {sku} must be from 1 to {MAX_PASS_USES}",
                )
            )
    return problems


def spec_services(text: str | None) -> dict[str, int | None]:
    """The services of a stored pass_spec ({} for none or an unreadable one)."""
    if not text:
        return {}
    try:
        data = json.loads(text)
    except ValueError:
        return {}
    services = data.get("services") if isinstance(data, dict) else None
    return dict(services) if isinstance(services, dict) else {}


def cell_text(cell: Cell) -> str:
    """A cell as text: Excel's whole numbers (also when stored as 6921168509256.0) as their
    digits, other numbers as Python writes them (12.8 stays "12.8", so Decimal(str(x)) is exact
    for what Excel showed)."""
    if isinstance(cell, str):
        return cell.strip()
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "yes" if cell else "no"
    if isinstance(cell, int):
        return str(cell)
    if isinstance(cell, float):
        if cell.is_integer():
            return str(int(cell))
        return str(cell)
    return str(cell).strip()


def normalize_sku(text: str) -> str:
    """SKUs are kept upper case without spaces, so a scan or a typed "d001" finds D001."""
    return "".join(text.split()).upper()


def parse_header(cells: Sequence[Cell]) -> tuple[list[str], list[RowProblem]]:
    """Column names for each position ("" for an unnamed column, which is ignored)."""
    names: list[str] = []
    problems: list[RowProblem] = []
    for cell in cells:
        text = cell_text(cell)
        key = ALIASES.get(text) or ALIASES.get(text.lower())
        if key is None:
            key = re.sub(r"[\s-]+", "_", text.lower())
        if not text:
            names.append("")
            continue
        if key not in COLUMNS:
            problems.append(
                RowProblem(1, text, f"未知的列：{text}", f"unknown column {text!r}", text)
            )
        elif key in names:
            problems.append(
                RowProblem(1, text, f"列重复：{text}", f"column {key} is given twice", text)
            )
        names.append(key)
    for name in REQUIRED:
        if name not in names:
            problems.append(
                RowProblem(
                    1,
                    name,
                    f"缺少必填列：{name}（{COLUMN_NAMES_ZH[name]}）",
                    f"missing column {name}",
                )
            )
    return names, problems


def check_catalogue(
    header: Sequence[Cell],
    rows: Iterable[tuple[int, Sequence[Cell]]],
    existing: Mapping[str, CatalogueProduct],
    barcode_owner: Mapping[str, str],
) -> CatalogueCheck:
    """Check a whole file against the catalogue (`existing` by SKU, `barcode_owner`: barcode →
    SKU). `rows` are (row number, cells). Returns the good rows as planned products and every
    problem, sorted by row; a row with any problem is not planned."""
    result = CatalogueCheck()
    names, header_problems = parse_header(header)
    if header_problems:
        result.header_ok = False
        result.problems = header_problems
        result.rows = sum(1 for _, cells in rows if any(cell_text(c) for c in cells))
        result.bad_rows = result.rows
        return result
    reader = _RowReader(names, existing)
    problems: list[RowProblem] = []
    good: dict[str, tuple[int, CatalogueProduct]] = {}
    bad: dict[str, int] = {}  # SKU -> first row that named it with problems
    sku_rows: dict[str, int] = {}
    barcode_rows: dict[str, tuple[int, str]] = {}
    for n, cells in rows:
        texts = [cell_text(c) for c in cells]
        if not any(texts):
            continue  # a blank line is not a product
        result.rows += 1
        row_problems: list[RowProblem] = []
        product = reader.read(n, cells, texts, row_problems)
        sku = reader.last_sku
        if sku:
            first = sku_rows.setdefault(sku, n)
            if first != n:
                row_problems.append(
                    RowProblem(
                        n,
                        "sku",
                        f"编码 {sku} 与第 {first} 行重复",
                        f"SKU {sku} is also on row {first}",
                        sku,
                    )
                )
        for code in reader.last_barcodes:
            seen = barcode_rows.setdefault(code, (n, sku))
            if seen[0] != n:
                row_problems.append(
                    RowProblem(
                        n,
                        "barcodes",
                        f"条码 {code} 与第 {seen[0]} 行（{seen[1]}）重复",
                        f"barcode {code} is also on row {seen[0]} ({seen[1]})",
                        code,
                    )
                )
        if row_problems or product is None:
            problems.extend(row_problems)
            result.bad_rows += 1
            if sku:
                bad.setdefault(sku, n)
        else:
            good[product.sku] = (n, product)
    problems.extend(_cross_check(good, bad, existing, barcode_owner, result))
    order = {name: i for i, name in enumerate(COLUMNS)}
    problems.sort(key=lambda p: (p.row, order.get(p.column, len(order))))
    result.problems = problems
    for n, product in sorted(good.values(), key=lambda item: item[0]):
        before = existing.get(product.sku)
        result.planned.append(PlannedProduct(n, product, before is not None, before != product))
    return result


def _cross_check(
    good: dict[str, tuple[int, CatalogueProduct]],
    bad: dict[str, int],
    existing: Mapping[str, CatalogueProduct],
    barcode_owner: Mapping[str, str],
    result: CatalogueCheck,
) -> list[RowProblem]:
    """Checks between rows and against the catalogue: barcodes another product keeps, and the
    services card products name. A row refused here can make others fail in turn (a service
    whose row was refused, a barcode its old owner now keeps), so repeat until nothing moves."""
    problems: list[RowProblem] = []
    cards = [p for p in existing.values() if p.kind in CARD_KINDS]
    while True:
        refused: dict[str, RowProblem] = {}
        for sku, (n, product) in good.items():
            for code in product.barcodes:
                owner = barcode_owner.get(code)
                if owner is None or owner == sku:
                    continue
                if owner in good and code not in good[owner][1].barcodes:
                    continue  # the owner's row gives this barcode up
                refused.setdefault(
                    sku,
                    RowProblem(
                        n,
                        "barcodes",
                        f"条码 {code} 已被商品 {owner} 使用",
                        f"barcode {code} belongs to product {owner}",
                        code,
                    ),
                )
        for sku, problem in _service_problems(good, bad, existing, cards):
            refused.setdefault(sku, problem)
        if not refused:
            return problems
        for sku, problem in refused.items():
            problems.append(problem)
            bad.setdefault(sku, good.pop(sku)[0])
            result.bad_rows += 1


def _service_problems(
    good: Mapping[str, tuple[int, CatalogueProduct]],
    bad: Mapping[str, int],
    existing: Mapping[str, CatalogueProduct],
    existing_cards: list[CatalogueProduct],
) -> list[tuple[str, RowProblem]]:
    """Every card product, from the file or one the catalogue keeps, must name services that
    are services after this import. Returns (SKU of the row to refuse, problem)."""

    def final_kind(sku: str) -> str | None:
        if sku in good:
            return good[sku][1].kind
        before = existing.get(sku)
        return before.kind if before is not None else None

    problems: list[tuple[str, RowProblem]] = []
    for sku, (n, product) in good.items():
        if product.kind not in CARD_KINDS:
            continue
        for service in spec_services(product.pass_spec):
            kind = final_kind(service)
            if kind == ProductKind.SERVICE:
                continue
            if kind is None and service in bad:
                zh = f"服务项目 {service} 所在的第 {bad[service]} 行有错误"
                en = f"service {service} is on row {bad[service]}, which has errors"
            elif kind is None:
                zh, en = f"没有这个服务项目：{service}", f"no service with SKU {service}"
            else:
                zh = f"{service} 不是服务项目（类型：{_kind_text(kind, 'zh')}）"
                en = f"{service} is not a service (it is {_kind_text(kind, 'en')})"
            problems.append((sku, RowProblem(n, "pass_services", zh, en, service)))
            break
    # A card the catalogue keeps (not in the file, or its row refused) still sells its
    # services: a row may not turn one of them into something else.
    for card in existing_cards:
        if card.sku in good:
            continue
        for service in spec_services(card.pass_spec):
            if service in good and good[service][1].kind != ProductKind.SERVICE:
                problem = RowProblem(
                    good[service][0],
                    "kind",
                    f"{service} 是 {card.sku} 的服务项目，必须保持为服务",
                    f"{service} is a service of card {card.sku} and must stay a service",
                    good[service][1].kind,
                )
                problems.append((service, problem))
    return problems


def _kind_text(kind: str, lang: str) -> str:
    try:
        zh, en = KIND_NAMES[ProductKind(kind)]
    except ValueError:
        return kind
    return en if lang == "en" else zh


class _RowReader:
    """Reads one data row into a product, collecting every problem of the row."""

    def __init__(self, names: list[str], existing: Mapping[str, CatalogueProduct]) -> None:
        self.index = {name: i for i, name in enumerate(names) if name}
        self.width = len(names)
        self.existing = existing
        self.last_sku = ""  # the row's SKU, when readable (for the duplicate checks)
        self.last_barcodes: list[str] = []  # the barcodes the row gives (ditto)
        self._cells: Sequence[Cell] = ()
        self._texts: list[str] = []

    def _text(self, column: str) -> str:
        i = self.index.get(column)
        return self._texts[i] if i is not None and i < len(self._texts) else ""

    def _cell(self, column: str) -> Cell:
        i = self.index.get(column)
        return self._cells[i] if i is not None and i < len(self._cells) else None

    def _given(self, column: str) -> bool:
        return column in self.index

    def read(
        self, n: int, cells: Sequence[Cell], texts: list[str], out: list[RowProblem]
    ) -> CatalogueProduct | None:
        self._cells, self._texts = cells, texts
        self.last_sku = ""
        self.last_barcodes = []
        before = len(out)
        text, given = self._text, self._given

        def problem(column: str, zh: str, en: str, value: str = "") -> None:
            out.append(RowProblem(n, column, zh, en, value))

        if len(texts) > self.width and any(texts[self.width :]):
            problem(
                "",
                f"本行的内容超出了表头的 {self.width} 列",
                f"the row has values beyond the header's {self.width} columns",
            )
        sku = normalize_sku(text("sku"))
        if not sku:
            problem("sku", "缺少编码", "the SKU is missing")
        elif not _SKU.fullmatch(sku):
            problem(
                "sku",
                f"编码只能包含字母、数字和 . _ / -，最长 32 位：{sku}",
                f"a SKU has letters, digits and . _ / - only, at most 32: {sku}",
                sku,
            )
        else:
            self.last_sku = sku
        # An optional column the file leaves out keeps what an existing product has.
        old = self.existing.get(sku)
        keep = {c for c in COLUMNS if not given(c)} if old is not None else set()

        name = text("name")
        self._check_text(n, "name", name, out, required=True)
        category = text("category")
        self._check_text(n, "category", category, out, required=True)
        name_en = (old.name_en if old else None) if "name_en" in keep else text("name_en") or None
        self._check_text(n, "name_en", name_en or "", out, required=False)
        unit = (old.unit if old else DEFAULT_UNIT) if "unit" in keep else text("unit")
        unit = unit or DEFAULT_UNIT
        self._check_text(n, "unit", unit, out, required=False)

        if "barcodes" in keep and old is not None:
            barcodes = list(old.barcodes)
        else:
            barcodes = self._barcodes(n, self._cell("barcodes"), text("barcodes"), out)
            self.last_barcodes = barcodes

        kind: ProductKind | None = ProductKind.GOODS
        kind_text = text("kind")
        if "kind" in keep and old is not None:
            kind = ProductKind(old.kind)
        elif kind_text:
            kind = KIND_WORDS.get(kind_text) or KIND_WORDS.get(kind_text.lower())
            if kind is None:
                words = "、".join(zh for zh, _ in KIND_NAMES.values())
                problem(
                    "kind",
                    f"未知的类型：{kind_text}（可用：{words}）",
                    f"unknown kind {kind_text!r} (use one of {', '.join(ProductKind)})",
                    kind_text,
                )

        price = self._money(n, "price", text("price"), out, required=True)
        if "member_price" in keep and old is not None:
            member_price = old.member_price_fen
        else:
            member_price = self._money(n, "member_price", text("member_price"), out, False)
        if price is not None and member_price is not None and member_price > price:
            problem(
                "member_price",
                "会员价不能高于售价",
                "the member price is above the price",
                text("member_price"),
            )

        flags: dict[str, bool] = {}
        for column in ("earns_points", "takes_discounts", "active", "sold_by_weight"):
            if column in keep and old is not None:
                flags[column] = bool(getattr(old, column))
            else:
                flag = self._flag(n, column, text(column), out)
                flags[column] = (column != "sold_by_weight") if flag is None else flag
        if flags["sold_by_weight"]:
            unit = self._weight_unit(n, unit, kind, out)

        spec = None
        if kind is not None:
            spec = self._pass_spec(n, kind, old, out)

        if len(out) > before or kind is None or price is None:
            return None
        return CatalogueProduct(
            sku=sku,
            name=name,
            category=category,
            price_fen=price,
            barcodes=tuple(sorted(barcodes)),
            name_en=name_en,
            unit=unit,
            kind=kind.value,
            member_price_fen=member_price,
            earns_points=flags["earns_points"],
            takes_discounts=flags["takes_discounts"],
            pass_spec=spec,
            active=flags["active"],
            sold_by_weight=flags["sold_by_weight"],
        )

    @staticmethod
    def _weight_unit(n: int, unit: str, kind: ProductKind | None, out: list[RowProblem]) -> str:
        """A weighed product's unit, as stored ("kg" or "斤"); a problem when it is none."""
        if kind is not None and kind is not ProductKind.GOODS:
            out.append(
                RowProblem(
                    n,
                    "sold_by_weight",
                    "只有商品可以称重销售",
                    "only goods can be sold by weight",
                    kind.value,
                )
            )
        weighed = weight_unit(unit)
        if weighed is None:
            out.append(
                RowProblem(
                    n,
                    "unit",
                    f"称重商品的单位必须是 kg（千克、公斤）或 斤：{unit}",
                    f"a product sold by weight has the unit kg or 斤: {unit}",
                    unit,
                )
            )
            return unit
        return weighed

    def _pass_spec(
        self, n: int, kind: ProductKind, old: CatalogueProduct | None, out: list[RowProblem]
    ) -> str | None:
        services_text = self._text("pass_services")
        days_text = self._text("pass_valid_days")
        if kind not in CARD_KINDS:
            for column, value in (("pass_services", services_text), ("pass_valid_days", days_text)):
                if value:
                    out.append(
                        RowProblem(
                            n,
                            column,
                            "只有次卡、时限卡、套餐和体验卡才有服务项目和有效天数",
                            "only count, time, package and trial cards have services and "
                            "valid days",
                            value,
                        )
                    )
            return None
        pass_columns = self._given("pass_services") or self._given("pass_valid_days")
        if not pass_columns and old is not None and old.kind == kind.value and old.pass_spec:
            return old.pass_spec  # a file without the pass columns keeps the card's pass
        services = self._services(n, kind, services_text, out)
        days = self._days(n, days_text, out)
        if services is None or days is None:
            return None
        return pass_spec_text(services, days)

    @staticmethod
    def _check_text(n: int, column: str, value: str, out: list[RowProblem], required: bool) -> None:
        limit = MAX_LENGTHS[column]
        if required and not value:
            zh = COLUMN_NAMES_ZH[column]
            out.append(RowProblem(n, column, f"缺少{zh}", f"the {column} is missing"))
        elif has_control_chars(value):
            # A name goes onto receipts, the till's screen and reports: one line, no ESC.
            try:
                refuse_control_chars(value, COLUMN_NAMES_ZH[column], column)
            except InvalidInput as exc:
                out.append(RowProblem(n, column, exc.zh, exc.en, shown(value)))
        elif len(value) > limit:
            out.append(
                RowProblem(
                    n,
                    column,
                    f"太长了（最多 {limit} 个字）",
                    f"too long (at most {limit} characters)",
                    value,
                )
            )

    @staticmethod
    def _barcodes(n: int, cell: Cell, text: str, out: list[RowProblem]) -> list[str]:
        if isinstance(cell, float) and not cell.is_integer():
            out.append(
                RowProblem(
                    n,
                    "barcodes",
                    f"条码不是整数：{text}",
                    f"a barcode is not a whole number: {text}",
                    text,
                )
            )
            return []
        codes: list[str] = []
        for part in _LIST_SEPARATORS.split(text):
            code = part.strip()
            if not code:
                continue
            if _SCIENTIFIC.fullmatch(code):
                out.append(
                    RowProblem(
                        n,
                        "barcodes",
                        f"条码被 Excel 写成了科学计数法（{code}），位数已丢失；"
                        "请把条码列设为“文本”后重新导出",
                        f"Excel wrote the barcode in scientific notation ({code}) and lost "
                        "digits; format the column as Text and export again",
                        code,
                    )
                )
            elif not _BARCODE.fullmatch(code):
                out.append(
                    RowProblem(
                        n,
                        "barcodes",
                        f"条码只能包含字母、数字和 . _ / -，最长 32 位：{code}",
                        f"a barcode has letters, digits and . _ / - only, at most 32: {code}",
                        code,
                    )
                )
            elif code not in codes:
                codes.append(code)
        return codes

    @staticmethod
    def _money(n: int, column: str, text: str, out: list[RowProblem], required: bool) -> int | None:
        if not text:
            if required:
                out.append(RowProblem(n, column, "缺少售价", "the price is missing"))
            return None
        try:
            return parse_yuan(text, max_fen=MAX_PRICE_FEN)
        except InvalidInput as exc:
            out.append(RowProblem(n, column, exc.zh, exc.en, text))
            return None

    @staticmethod
    def _flag(n: int, column: str, text: str, out: list[RowProblem]) -> bool | None:
        if not text:
            return None
        value = FLAG_WORDS.get(text.lower())
        if value is None:
            out.append(
                RowProblem(
                    n,
                    column,
                    f"请填 是/否（或 yes/no、1/0）：{text}",
                    f"use yes or no (or 1/0, true/false): {text}",
                    text,
                )
            )
        return value

    @staticmethod
    def _services(
        n: int, kind: ProductKind, text: str, out: list[RowProblem]
    ) -> dict[str, int | None] | None:
        services: dict[str, int | None] = {}
        bad_items: list[tuple[str, str]] = []
        for part in _LIST_SEPARATORS.split(text):
            item = part.strip()
            if not item:
                continue
            match = _PASS_ITEM.fullmatch(item)
            sku = normalize_sku(match[1]) if match else ""
            if not match or not _SKU.fullmatch(sku):
                bad_items.append(
                    (
                        f"看不懂的服务项目：{item}（例如 SV01*10）",
                        f"cannot read the service {item!r} (e.g. SV01*10)",
                    )
                )
                continue
            uses: int | None = None
            if match[2] is not None:
                try:
                    uses = parse_whole_number(
                        match[2],
                        minimum=1,
                        maximum=MAX_PASS_USES,
                        what_zh=f"{sku} 的次数",
                        what_en=f"count for {sku}",
                    )
                except InvalidInput as exc:
                    bad_items.append((exc.zh, exc.en))
                    continue
            if sku in services:
                bad_items.append((f"服务 {sku} 写了两次", f"service {sku} is given twice"))
                continue
            services[sku] = uses
        if not bad_items:
            bad_items = check_pass_services(kind, services)
        for zh, en in bad_items:
            out.append(RowProblem(n, "pass_services", zh, en, text))
        return None if bad_items else services

    @staticmethod
    def _days(n: int, text: str, out: list[RowProblem]) -> int | None:
        if not text:
            out.append(RowProblem(n, "pass_valid_days", "缺少有效天数", "valid days are missing"))
            return None
        try:
            return parse_whole_number(
                text, minimum=1, maximum=MAX_VALID_DAYS, what_zh="有效天数", what_en="valid days"
            )
        except InvalidInput as exc:
            out.append(RowProblem(n, "pass_valid_days", exc.zh, exc.en, text))
            return None
