"""The product catalogue: importing it from CSV or XLSX, and the look-ups a checkout makes.

Import (`import_products`) reads the whole file first (CSV in UTF-8, with or without a BOM,
or GB18030 as Chinese Excel saves it; or the first sheet of an XLSX workbook), then, in one
write transaction, checks every row against the file and the catalogue
(`pos_app.domain.catalogue.check_catalogue`) and writes the products with a few executemany
statements. A file with any problem writes nothing, unless `good_rows_only`, which writes the
good rows and reports the others; the report lists every problem by row, column and reason.
Products are not ledger facts: an import leaves an audit event, not a ledger entry.

Look-ups: `product_by_code` (barcode, then SKU) is what a scan at the till calls, inside the
checkout's own session; `search_products` finds products by name, SKU prefix or barcode.
"""

from __future__ import annotations

import json
import time
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from datetime import time as clock_time
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import Connection, case, or_, select
from sqlalchemy.orm import Session

from db.engine import read_session
from db.ledger import new_id
from db.models import Product, ProductBarcode
from pos_app.domain.catalogue import (
    CatalogueCheck,
    CatalogueProduct,
    Cell,
    PlannedProduct,
    RowProblem,
    check_catalogue,
    normalize_sku,
)
from pos_app.domain.catalogue_csv import parse_catalogue_csv
from pos_app.domain.errors import InvalidInput, NotFound, PermissionDenied
from pos_app.domain.permissions import Permission
from pos_app.services.audit import record, record_refusal
from pos_app.services.auth import Actor, authorize
from pos_app.services.context import StoreContext
from pos_app.services.use_case import use_case


class Progress(Protocol):
    """`progress(done, total)` while writing; `progress(rows_read)` while reading a file."""

    def __call__(self, done: int, total: int | None = None) -> None: ...


WRITE_CHUNK = 5_000  # products per executemany (progress is reported after each)
READ_PROGRESS_EVERY = 5_000  # rows read between progress calls while reading a file
SQL_IN_CHUNK = 900  # SQLite's limit on bound parameters is 999 on old builds
DEMO_CATALOGUE = "resources/demo_catalogue.csv"

_Rows = list[tuple[int, list[Cell]]]


@dataclass(frozen=True)
class ProductView:
    """A product as the till and the CLI show it. `pass_spec` is the card's pass, decoded."""

    sku: str
    barcodes: tuple[str, ...]
    name: str
    name_en: str | None
    category: str
    unit: str
    kind: str
    price_fen: int
    member_price_fen: int | None
    earns_points: bool
    takes_discounts: bool
    pass_spec: dict[str, Any] | None
    active: bool = True
    sold_by_weight: bool = False  # priced per `unit` (kg or 斤) and sold by weight


@dataclass
class ProductImportReport:
    """What an import did. `imported` is False when nothing was written because of problems."""

    source: str
    rows: int = 0  # data rows in the file (blank lines not counted)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0  # rows with problems, not imported
    imported: bool = False
    problems: list[RowProblem] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems


# -- import -----------------------------------------------------------------------------


def import_products(
    ctx: StoreContext,
    actor: Actor,
    path: Path | str,
    *,
    good_rows_only: bool = False,
    progress: Progress | None = None,
) -> ProductImportReport:
    """Check a catalogue file and upsert its products by SKU (managers).

    `progress(rows_read)` while reading the file, then `progress(written, total)`.
    """
    started = time.perf_counter()
    path = Path(path)
    _check_permission(ctx, actor, path.name)
    header, rows = read_product_file(path, progress)
    report = _import_rows(ctx, actor, path.name, header, rows, good_rows_only, progress)
    report.seconds = time.perf_counter() - started
    return report


def load_demo_catalogue(
    ctx: StoreContext, actor: Actor, progress: Progress | None = None
) -> ProductImportReport:
    """Import the demo catalogue that ships with the app (about 40 products and services)."""
    ref = resources.files("pos_app").joinpath(DEMO_CATALOGUE)
    with resources.as_file(ref) as path:
        return import_products(ctx, actor, path, progress=progress)


def _check_permission(ctx: StoreContext, actor: Actor, target: str) -> None:
    """Refuse (and audit it) before reading a file of 50,000 rows, not after."""
    try:
        with read_session(ctx.engine) as s:
            authorize(s, actor, Permission.PRODUCT_IMPORT)
    except PermissionDenied as exc:
        record_refusal(ctx, actor.operator_id, Permission.PRODUCT_IMPORT.value, target, exc.en)
        raise


def _import_rows(
    ctx: StoreContext,
    actor: Actor,
    source: str,
    header: list[Cell] | None,
    rows: _Rows,
    good_rows_only: bool,
    progress: Progress | None,
) -> ProductImportReport:
    report = ProductImportReport(source)
    if header is None:
        report.problems = [RowProblem(1, "", "文件是空的", "the file is empty")]
        return report
    # Checked inside the write transaction, so nothing can change between check and write.
    with use_case(ctx, actor, Permission.PRODUCT_IMPORT, target=source[:80]) as uc:
        conn = uc.session.connection()
        existing, ids = _load_catalogue(conn)
        owner = {code: p.sku for p in existing.values() for code in p.barcodes}
        check = check_catalogue(header, rows, existing, owner)
        _refuse_hq_managed(conn, check, owner)
        report.rows, report.problems, report.skipped = check.rows, check.problems, check.bad_rows
        refused = not check.header_ok or (
            bool(check.problems) and (not good_rows_only or not check.planned)
        )
        if refused:
            report.skipped = check.rows
            return report
        _write(conn, check, existing, ids, uc.now_iso, progress)
        report.imported = True
        report.created = sum(1 for p in check.planned if not p.existed)
        report.updated = sum(1 for p in check.planned if p.existed and p.changed)
        report.unchanged = sum(1 for p in check.planned if not p.changed)
        record(
            uc.session,
            uc.now_iso,
            actor.operator_id,
            "product.import",
            target=source[:80],
            detail={
                "rows": report.rows,
                "created": report.created,
                "updated": report.updated,
                "unchanged": report.unchanged,
                "skipped": report.skipped,
            },
        )
    return report


def _refuse_hq_managed(conn: Connection, check: CatalogueCheck, owner: dict[str, str]) -> None:
    """Rows that would change a product of the chain catalogue (or take one of its barcodes)
    become problems: HQ sets those, with this store's price (pos-hq product price)."""
    hq = set(conn.execute(select(Product.sku).where(Product.hq_managed.is_(True))).scalars())
    if not hq:
        return
    kept: list[PlannedProduct] = []
    for planned in check.planned:
        sku = planned.product.sku
        taken = [c for c in planned.product.barcodes if owner.get(c, sku) != sku and owner[c] in hq]
        if sku in hq and planned.changed:
            problem = RowProblem(
                planned.row,
                "sku",
                f"商品 {sku} 由总部管理，请在总部修改（含本店价格）",
                f"product {sku} is managed by HQ: change it at HQ (this store's price too)",
                sku,
            )
        elif taken:
            problem = RowProblem(
                planned.row,
                "barcodes",
                f"条码 {taken[0]} 属于总部管理的商品 {owner[taken[0]]}",
                f"barcode {taken[0]} belongs to product {owner[taken[0]]}, managed by HQ",
                taken[0],
            )
        else:
            kept.append(planned)
            continue
        check.problems.append(problem)
        check.bad_rows += 1
    check.problems.sort(key=lambda p: p.row)
    check.planned = kept


def _load_catalogue(conn: Connection) -> tuple[dict[str, CatalogueProduct], dict[str, str]]:
    """Every product as the domain compares them (by SKU), and their row ids (by SKU)."""
    barcodes: dict[str, list[str]] = {}
    for code, product_id in conn.execute(select(ProductBarcode.barcode, ProductBarcode.product_id)):
        barcodes.setdefault(product_id, []).append(code)
    products: dict[str, CatalogueProduct] = {}
    ids: dict[str, str] = {}
    columns = (
        Product.id,
        Product.sku,
        Product.name,
        Product.category,
        Product.price_fen,
        Product.name_en,
        Product.unit,
        Product.kind,
        Product.member_price_fen,
        Product.earns_points,
        Product.takes_discounts,
        Product.pass_spec,
        Product.active,
        Product.sold_by_weight,
    )
    for row in conn.execute(select(*columns)):
        (pid, sku, name, category, price, name_en, unit, kind) = row[:8]
        (member, earns, takes, spec, on, weighed) = row[8:]
        ids[sku] = pid
        products[sku] = CatalogueProduct(
            sku=sku,
            name=name,
            category=category,
            price_fen=price,
            barcodes=tuple(sorted(barcodes.get(pid, ()))),
            name_en=name_en,
            unit=unit,
            kind=kind,
            member_price_fen=member,
            earns_points=bool(earns),
            takes_discounts=bool(takes),
            pass_spec=spec,
            active=bool(on),
            sold_by_weight=bool(weighed),
        )
    return products, ids


def _write(
    conn: Connection,
    check: CatalogueCheck,
    existing: dict[str, CatalogueProduct],
    ids: dict[str, str],
    now: str,
    progress: Progress | None,
) -> None:
    """New products inserted, changed ones updated, barcodes replaced where they changed;
    plain executemany statements, a chunk at a time.

    Every barcode a changed product gives up is deleted first: a barcode may move from one
    product to another within the file, and the barcode is the table's primary key."""
    work = [p for p in check.planned if p.changed]
    total = len(work)
    if not total:
        return
    if progress:
        progress(0, total)
    moved = [
        (ids[p.product.sku],)
        for p in work
        if p.existed and existing[p.product.sku].barcodes != p.product.barcodes
    ]
    if moved:
        conn.exec_driver_sql(_SQL_DELETE_BARCODES, moved)
    for start in range(0, total, WRITE_CHUNK):
        chunk = work[start : start + WRITE_CHUNK]
        created: list[tuple[Any, ...]] = []
        changed: list[tuple[Any, ...]] = []
        codes: list[tuple[str, str]] = []
        for planned in chunk:
            product = planned.product
            values = tuple(getattr(product, name) for name in PRODUCT_FIELDS) + (now,)
            old = existing.get(product.sku) if planned.existed else None
            if old is None:
                pid = ids[product.sku] = new_id()
                created.append((pid, *values))
            else:
                pid = ids[product.sku]
                changed.append((*values, pid))
                if old.barcodes == product.barcodes:
                    continue
            codes += ((code, pid) for code in product.barcodes)
        if created:
            conn.exec_driver_sql(_SQL_INSERT_PRODUCT, created)
        if changed:
            conn.exec_driver_sql(_SQL_UPDATE_PRODUCT, changed)
        if codes:
            conn.exec_driver_sql(_SQL_INSERT_BARCODE, codes)
        if progress:
            progress(start + len(chunk), total)


# The columns the import writes, in the order of CatalogueProduct's fields it takes them from.
PRODUCT_FIELDS = (
    "sku",
    "name",
    "name_en",
    "category",
    "unit",
    "kind",
    "price_fen",
    "member_price_fen",
    "earns_points",
    "takes_discounts",
    "pass_spec",
    "active",
    "sold_by_weight",
)
_WRITTEN = (*PRODUCT_FIELDS, "updated_at")
_SQL_INSERT_PRODUCT = (
    f"INSERT INTO product (id, {', '.join(_WRITTEN)}) VALUES (?{', ?' * len(_WRITTEN)})"
)
_SQL_UPDATE_PRODUCT = f"UPDATE product SET {', '.join(f'{c} = ?' for c in _WRITTEN)} WHERE id = ?"
_SQL_DELETE_BARCODES = "DELETE FROM product_barcode WHERE product_id = ?"
_SQL_INSERT_BARCODE = "INSERT INTO product_barcode (barcode, product_id) VALUES (?, ?)"


# -- reading files ----------------------------------------------------------------------


def read_product_file(
    path: Path, progress: Progress | None = None
) -> tuple[list[Cell] | None, _Rows]:
    """The header (None for an empty file) and the data rows as (row number, cells), the
    header being row 1 as in a spreadsheet."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path, progress)
    if suffix in (".csv", ".txt", ".tsv"):
        return _read_csv(path, progress)
    if suffix == ".xls":
        raise InvalidInput(
            "不支持旧版 Excel（.xls）文件：请在 Excel 中另存为 .xlsx 或 CSV UTF-8",
            "Old Excel (.xls) files are not supported: save as .xlsx or CSV UTF-8",
        )
    raise InvalidInput(
        f"商品文件必须是 .csv 或 .xlsx：{path.name}",
        f"A catalogue file is .csv or .xlsx: {path.name}",
    )


def _read_csv(path: Path, progress: Progress | None) -> tuple[list[Cell] | None, _Rows]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"无法打开文件：{path}（{exc}）", f"Cannot open {path}: {exc}") from None
    return parse_catalogue_csv(data, progress, READ_PROGRESS_EVERY)


def _read_xlsx(path: Path, progress: Progress | None) -> tuple[list[Cell] | None, _Rows]:
    # Imported only when an XLSX file comes: openpyxl takes a while to load.
    from openpyxl import load_workbook  # type: ignore[import-untyped]
    from openpyxl.utils.exceptions import InvalidFileException  # type: ignore[import-untyped]

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
        raise InvalidInput(
            f"无法读取 Excel 文件：{path.name}（{exc}）",
            f"Cannot read the workbook {path.name}: {exc}",
        ) from None
    header: list[Cell] | None = None
    rows: _Rows = []
    try:
        sheet = book.worksheets[0]
        # Some programs write a wrong sheet size; read what is really there.
        sheet.reset_dimensions()
        for n, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = [_xlsx_cell(v) for v in values]
            if n == 1:
                header = cells
                continue
            rows.append((n, cells))
            if progress and n % READ_PROGRESS_EVERY == 0:
                progress(n - 1)
    finally:
        book.close()
    return header, rows


def _xlsx_cell(value: object) -> Cell:
    if value is None or isinstance(value, str | int | float):
        return value
    if isinstance(value, datetime | date | clock_time):
        return value.isoformat()
    return str(value)


# -- look-ups ---------------------------------------------------------------------------


def product_by_code(session: Session, code: str, *, include_inactive: bool = False) -> Product:
    """The product a scanned or typed code names: a barcode (exactly), else a SKU (any case,
    spaces ignored). A product taken off sale is refused unless `include_inactive`."""
    (product,) = products_by_codes(session, [code], include_inactive=include_inactive)
    return product


def products_by_codes(
    session: Session, codes: Sequence[str], *, include_inactive: bool = False
) -> list[Product]:
    """`product_by_code` for a whole cart in two queries (a 20-line sale would otherwise
    spend more time looking up products than committing)."""
    texts = ["".join(str(code).split()) for code in codes]
    wanted = {t for t in texts if t}
    by_barcode: dict[str, Product] = {}
    by_sku: dict[str, Product] = {}
    if wanted:
        for barcode, coded in session.execute(
            select(ProductBarcode.barcode, Product)
            .join(Product, ProductBarcode.product_id == Product.id)
            .where(ProductBarcode.barcode.in_(wanted))
        ).tuples():
            by_barcode[barcode] = coded
        skus = {t.upper() for t in wanted if t not in by_barcode}
        if skus:
            by_sku = {
                p.sku: p for p in session.scalars(select(Product).where(Product.sku.in_(skus)))
            }
    out = []
    for text in texts:
        product = by_barcode.get(text) or by_sku.get(text.upper()) if text else None
        if product is None:
            raise NotFound(f"没有这个商品：{text}", f"No such product: {text}")
        if not product.active and not include_inactive:
            raise NotFound(
                f"商品已停售：{product.sku} {product.name}",
                f"Product {product.sku} is no longer on sale",
                code="product_inactive",
            )
        out.append(product)
    return out


def product_view(session: Session, product: Product) -> ProductView:
    return product_views(session, [product])[0]


def product_views(session: Session, products: Sequence[Product]) -> list[ProductView]:
    """Views of these products, their barcodes fetched in one go."""
    ids = [p.id for p in products]
    codes: dict[str, list[str]] = {}
    for start in range(0, len(ids), SQL_IN_CHUNK):
        part = ids[start : start + SQL_IN_CHUNK]
        for code, pid in session.execute(
            select(ProductBarcode.barcode, ProductBarcode.product_id).where(
                ProductBarcode.product_id.in_(part)
            )
        ):
            codes.setdefault(pid, []).append(code)
    return [_view(p, codes.get(p.id, [])) for p in products]


def _view(product: Product, barcodes: Iterable[str]) -> ProductView:
    return ProductView(
        sku=product.sku,
        barcodes=tuple(sorted(barcodes)),
        name=product.name,
        name_en=product.name_en,
        category=product.category,
        unit=product.unit,
        kind=product.kind,
        price_fen=product.price_fen,
        member_price_fen=product.member_price_fen,
        earns_points=product.earns_points,
        takes_discounts=product.takes_discounts,
        pass_spec=json.loads(product.pass_spec) if product.pass_spec else None,
        active=product.active,
        sold_by_weight=product.sold_by_weight,
    )


def show_product(ctx: StoreContext, actor: Actor, code: str) -> ProductView:
    """One product by barcode or SKU, also when it is off sale."""
    with read_session(ctx.engine) as s:
        authorize(s, actor, Permission.SALE)
        return product_view(s, product_by_code(s, code, include_inactive=True))


def search_products(
    ctx: StoreContext, actor: Actor, text: str, limit: int = 20
) -> list[ProductView]:
    """Products on sale whose name contains the text, whose SKU starts with it, or whose
    barcode starts with it; exact SKU or barcode matches first."""
    with read_session(ctx.engine) as s:
        authorize(s, actor, Permission.SALE)
        return _find(s, text, None, limit, active_only=True)


def list_products(
    ctx: StoreContext,
    actor: Actor,
    *,
    category: str | None = None,
    text: str | None = None,
    limit: int | None = None,
) -> list[ProductView]:
    """The catalogue by SKU (products off sale too), optionally of one category or matching
    a search text as `search_products` does."""
    with read_session(ctx.engine) as s:
        authorize(s, actor, Permission.SALE)
        return _find(s, text, category, limit, active_only=False)


def _find(
    s: Session, text: str | None, category: str | None, limit: int | None, *, active_only: bool
) -> list[ProductView]:
    query = select(Product)
    rank: Any = None
    words = (text or "").strip()
    if words:
        code = "".join(words.split())
        sku = normalize_sku(words)
        exact_barcode = select(ProductBarcode.product_id).where(ProductBarcode.barcode == code)
        barcode_prefix = select(ProductBarcode.product_id).where(
            ProductBarcode.barcode.startswith(code, autoescape=True)
        )
        query = query.where(
            or_(
                Product.name.contains(words, autoescape=True),
                Product.name_en.contains(words, autoescape=True),
                Product.sku.startswith(sku, autoescape=True),
                Product.id.in_(barcode_prefix),
            )
        )
        rank = case(
            (Product.sku == sku, 0),
            (Product.id.in_(exact_barcode), 0),
            (Product.sku.startswith(sku, autoescape=True), 1),
            else_=2,
        )
    if category:
        query = query.where(Product.category == category.strip())
    if active_only:
        query = query.where(Product.active.is_(True))
    query = query.order_by(*((rank,) if rank is not None else ()), Product.sku)
    if limit is not None:
        query = query.limit(limit)
    return product_views(s, list(s.scalars(query)))
