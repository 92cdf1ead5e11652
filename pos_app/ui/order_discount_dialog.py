"""整单折扣: a discount on the whole sale, as a percentage ("10%") or an amount ("5.00");
an empty field takes the discount off again."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from pos_app.domain.sale_request import OrderDiscount, parse_order_discount
from pos_app.ui.entry_dialog import EntryDialog


class OrderDiscountDialog(EntryDialog):
    """Asks for the discount; emits an OrderDiscount, or None to remove it."""

    def __init__(self, lang: str, current: str = "", parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        self.set_texts(
            self.tr("Order discount"),
            self.tr(
                "Type a percentage off the whole sale (10% = 9折) or an amount off (5.00). "
                "Leave it empty to take the discount off."
            ),
            self.tr("Discount"),
        )
        self.field.setPlaceholderText("10%")
        self.field.setText(current)

    def read_value(self) -> OrderDiscount | None:
        text = self.field.text().strip()
        return parse_order_discount(text) if text else None
