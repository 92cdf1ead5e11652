"""改价: a new unit price for the selected line (per piece, or per kg/斤 for weighed goods).
Lower than the catalogue's only; beyond the rules' limit a manager approves afterwards."""

from __future__ import annotations

from PySide6.QtWidgets import QLineEdit, QWidget

from pos_app.domain.money import MAX_PRICE_FEN, format_fen
from pos_app.ui.entry_dialog import EntryDialog
from pos_app.ui.money_input import MoneyInput
from pos_app.ui.translations import fill


class PriceChangeDialog(EntryDialog):
    """Asks for the new unit price; emits it in fen."""

    def __init__(
        self,
        lang: str,
        name: str,
        price_fen: int,
        per: str,
        changed_fen: int | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(lang, parent)
        self.set_texts(
            self.tr("Change price"),
            fill(
                self.tr("%1: the price is %2 per %3. Type the new price per %3."),
                name,
                format_fen(price_fen),
                per,
            ),
            self.tr("New price (¥)"),
        )
        assert isinstance(self.field, MoneyInput)
        self.field.set_fen(changed_fen if changed_fen is not None else price_fen)

    def make_field(self) -> QLineEdit:
        return MoneyInput(self, allow_zero=True, max_fen=MAX_PRICE_FEN)

    def read_value(self) -> int:
        assert isinstance(self.field, MoneyInput)
        return self.field.fen()
