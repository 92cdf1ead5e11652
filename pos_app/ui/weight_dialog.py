"""The weight of goods sold by weight, typed by the cashier: when the scale could not give a
settled weight (its message is shown), or there is no scale at this till."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from pos_app.domain.weighed_goods import parse_weight
from pos_app.ui.entry_dialog import EntryDialog
from pos_app.ui.translations import fill


class WeightDialog(EntryDialog):
    """Asks for the weight in the product's unit; emits it in thousandths of the unit."""

    def __init__(
        self, lang: str, name: str, unit: str, reason: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(lang, parent)
        self.set_texts(
            self.tr("Weight"),
            fill(self.tr("%1 is sold by weight. Type the weight in %2."), name, unit),
            fill(self.tr("Weight (%1)"), unit),
        )
        self.unit = unit
        self.field.setPlaceholderText("0.500")
        if reason:
            self.show_error(reason)

    def read_value(self) -> int:
        return parse_weight(self.field.text(), self.unit)
