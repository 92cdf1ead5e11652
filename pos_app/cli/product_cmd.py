"""The product catalogue: `product import`, `product list`, `product show`."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import click

from pos_app.cli import exit_codes
from pos_app.cli.invocation import Invocation
from pos_app.cli.number_params import WholeNumber
from pos_app.cli.operator_options import Credentials, operator_options, signed_in
from pos_app.cli.output import Row, yes_no, yuan
from pos_app.cli.path_params import FilePath
from pos_app.cli.progress_display import StderrProgress
from pos_app.domain.catalogue import KIND_NAMES, ProductKind
from pos_app.services.catalogue import (
    ProductImportReport,
    ProductView,
    import_products,
    list_products,
    show_product,
)

MAX_PROBLEMS_SHOWN = 50  # on screen; --json carries every problem
LIST_HEADER = [
    "编码 SKU",
    "名称 Name",
    "分类 Category",
    "售价 Price",
    "会员价 Member",
    "条码 Barcodes",
]


def kind_text(kind: str) -> str:
    """ "次卡 count card" for a kind code; unknown codes as they are."""
    try:
        zh, en = KIND_NAMES[ProductKind(kind)]
    except ValueError:
        return kind
    return f"{zh} {en}"


def product_fields(view: ProductView) -> dict[str, Any]:
    data = asdict(view)
    data["barcodes"] = list(view.barcodes)
    return data


def pass_text(spec: dict[str, Any] | None) -> str:
    """SV01×10, SV03×5 / 180 天 days; a time card's services without counts."""
    if not spec:
        return ""
    services = spec.get("services", {})
    items = [sku if uses is None else f"{sku}×{uses}" for sku, uses in services.items()]
    return f"{', '.join(items)} / {spec.get('valid_days')} 天 days"


@click.group()
def product() -> None:
    """商品 The product catalogue: import, list, show."""


@product.command("import")
@click.argument("file", type=FilePath(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--good-rows-only",
    is_flag=True,
    help="只导入没有错误的行（其余报告） Import the rows without problems, report the others",
)
@operator_options()
@click.pass_obj
def product_import(inv: Invocation, file: Path, good_rows_only: bool, creds: Credentials) -> None:
    """导入商品 Import products from a .csv or .xlsx file (managers); progress on stderr.

    Columns: sku, name, category, price (required); barcodes, name_en, unit, kind,
    member_price, earns_points, takes_discounts, pass_services, pass_valid_days, active,
    sold_by_weight (yes: 称重/散称, priced per unit kg or 斤).
    Existing SKUs are updated. A file with any problem imports nothing unless --good-rows-only.
    """
    actor = signed_in(inv, creds)
    with StderrProgress("导入商品 Importing products") as progress:
        report = import_products(
            inv.store(), actor, file, good_rows_only=good_rows_only, progress=progress
        )
    _print_import(inv, report)


def _print_import(inv: Invocation, report: ProductImportReport) -> None:
    """The counts and the problems; a file refused for its problems exits 2."""
    en = inv.lang == "en"
    data: dict[str, Any] = {
        "source": report.source,
        "imported": report.imported,
        "rows": report.rows,
        "created": report.created,
        "updated": report.updated,
        "unchanged": report.unchanged,
        "skipped": report.skipped,
        "ok": report.ok,
        "problems": [
            {
                "row": p.row,
                "column": p.column,
                "reason": p.reason if en else p.reason_zh,
                "reason_zh": p.reason_zh,
                "reason_en": p.reason,
                "value": p.value,
            }
            for p in report.problems
        ],
        "seconds": round(report.seconds, 3),
    }
    message = None
    if not report.imported:
        count = len(report.problems)
        message = (
            f"File refused: {count} problem(s), nothing imported"
            if en
            else f"文件有 {count} 处错误，未导入任何商品"
        )
        data.update(error="invalid_input", message=message)
    rows: list[Row] = [
        ("文件行数 Rows", report.rows),
        ("新增 Created", report.created),
        ("更新 Updated", report.updated),
        ("未变 Unchanged", report.unchanged),
        ("跳过 Skipped", report.skipped),
        ("用时 Seconds", f"{report.seconds:.1f}"),
    ]
    tables = []
    if report.problems:
        shown = report.problems[:MAX_PROBLEMS_SHOWN]
        more = len(report.problems) - len(shown)
        caption = f"问题 Problems ({len(report.problems)})" + (
            f"，仅显示前 {len(shown)} 条 first {len(shown)} shown" if more > 0 else ""
        )
        tables.append(
            (
                caption,
                ["行 Row", "列 Column", "原因 Reason"],
                [[p.row, p.column, p.reason if en else p.reason_zh] for p in shown],
            )
        )
    inv.out.result(data, rows, title="商品导入 Product import", tables=tables)
    if message is not None:  # the JSON object above already carries "error" and "message"
        inv.out.complain(message)
        raise click.exceptions.Exit(exit_codes.USAGE)


@product.command("list")
@click.option("--category", help="分类 Only this category")
@click.option(
    "--search", "text", metavar="TEXT", help="名称、编码前缀或条码 Name, SKU prefix, barcode"
)
@click.option(
    "--limit",
    default=500,
    show_default=True,
    type=WholeNumber(1, 1_000_000, "条数", "limit"),
)
@operator_options()
@click.pass_obj
def product_list(
    inv: Invocation, category: str | None, text: str | None, limit: int, creds: Credentials
) -> None:
    """商品列表 List the catalogue by SKU (products off sale too)."""
    actor = signed_in(inv, creds)
    views = list_products(inv.store(), actor, category=category, text=text, limit=limit)
    inv.out.result(
        {"count": len(views), "products": [product_fields(v) for v in views]},
        title=f"{len(views)} 个商品 product(s)",
        tables=[
            (
                "",
                [
                    "编码 SKU",
                    "名称 Name",
                    "分类 Category",
                    "售价 Price",
                    "会员价 Member",
                    "单位 Unit",
                    "条码 Barcodes",
                ],
                [
                    [
                        v.sku + ("" if v.active else " (停售 off)"),
                        v.name,
                        v.category,
                        yuan(v.price_fen),
                        yuan(v.member_price_fen) if v.member_price_fen is not None else "",
                        v.unit + (" 称重 weighed" if v.sold_by_weight else ""),
                        " ".join(v.barcodes),
                    ]
                    for v in views
                ],
            )
        ],
    )


@product.command("show")
@click.argument("code")
@operator_options()
@click.pass_obj
def product_show(inv: Invocation, code: str, creds: Credentials) -> None:
    """查看商品 Show one product by barcode or SKU."""
    actor = signed_in(inv, creds)
    view = show_product(inv.store(), actor, code)
    rows: list[Row] = [
        ("编码 SKU", view.sku),
        ("名称 Name", view.name),
        ("英文名 English name", view.name_en or ""),
        ("分类 Category", view.category),
        ("单位 Unit", view.unit),
        ("称重 Sold by weight", yes_no(view.sold_by_weight)),
        ("类型 Kind", kind_text(view.kind)),
        ("售价 Price", yuan(view.price_fen) + (f" / {view.unit}" if view.sold_by_weight else "")),
        (
            "会员价 Member price",
            yuan(view.member_price_fen) if view.member_price_fen is not None else "",
        ),
        ("积分 Earns points", yes_no(view.earns_points)),
        ("参与折扣 Takes discounts", yes_no(view.takes_discounts)),
        ("条码 Barcodes", " ".join(view.barcodes)),
        ("在售 On sale", yes_no(view.active)),
    ]
    if view.pass_spec:
        rows.append(("服务 Services", pass_text(view.pass_spec)))
    inv.out.result(product_fields(view), rows, title="商品 Product")
