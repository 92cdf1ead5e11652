"""手工抹零: round the total down to the jiao or the yuan, or by an amount; an empty field
goes back to the rules' rounding."""

from __future__ import annotations

from PySide6.QtWidgets import QPushButton, QWidget

from pos_app.domain.sale_request import ManualRounding, parse_manual_rounding
from pos_app.ui.entry_dialog import EntryDialog


class RoundingDialog(EntryDialog):
    """Asks how to round; emits a ManualRounding, or None for the rules' rounding."""

    def __init__(self, lang: str, parent: QWidget | None = None) -> None:
        super().__init__(lang, parent)
        self.set_texts(
            self.tr("Round off"),
            self.tr(
                "Drop the fen (角) or the jiao and fen (元) from the total, or type an amount "
                "to take off (0.80). Leave it empty for the usual rounding."
            ),
            self.tr("Amount (¥)"),
        )
        self.jiao_button = QPushButton(self.tr("To the jiao"), self)
        self.yuan_button = QPushButton(self.tr("To the yuan"), self)
        for button, mode in ((self.jiao_button, "jiao"), (self.yuan_button, "yuan")):
            button.setAutoDefault(False)
            button.clicked.connect(lambda _=False, m=mode: self._choose(m))
            self.buttons.insertWidget(0, button)

    def _choose(self, mode: str) -> None:
        self.field.setText(mode)
        self.confirm()

    def read_value(self) -> ManualRounding | None:
        text = self.field.text().strip()
        return parse_manual_rounding(text) if text else None
