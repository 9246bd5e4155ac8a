"""Custom special tokens: type tokens such as ``<source_lang>``, see them become single tokens, and
save the tokenizer with the model's embedding matrix resized to the new vocabulary."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from services.tokenizer.custom import CustomTokens, SavedCustomTokens


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class TokenCustomView(QWidget):
    sig_try = Signal()
    sig_save_folder = Signal()
    sig_save_library = Signal()

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.tokens_edit = QLineEdit("<source_lang>, <target_lang>")
        self.tokens_edit.setToolTip("Tokens to add as special tokens (separated by commas or spaces)")
        self.sample_edit = QLineEdit("<source_lang> I'm so excited <target_lang> Je suis ravi")
        self.sample_edit.setToolTip("A sample text that uses the new tokens")
        self.try_button = QPushButton("Add tokens")
        self.save_folder_button = QPushButton("Save with resized embeddings to a folder…")
        self.save_library_button = QPushButton("Save with resized embeddings to the library…")
        for button in (self.save_folder_button, self.save_library_button):
            button.setToolTip("Adds the tokens, calls model.resize_token_embeddings(len(tokenizer)) and saves "
                              "tokenizer + model (save_pretrained)")
        self.result_label = QLabel("Add tokens to see how the tokenizer splits the sample before and after.")
        self.result_label.setWordWrap(True)
        self.result_label.setTextFormat(Qt.TextFormat.RichText)
        self.saved_label = QLabel()
        self.saved_label.setWordWrap(True)
        row = QHBoxLayout()
        row.addWidget(QLabel("Tokens:"))
        row.addWidget(self.tokens_edit, 1)
        row.addWidget(self.try_button)
        sample = QHBoxLayout()
        sample.addWidget(QLabel("Sample:"))
        sample.addWidget(self.sample_edit, 1)
        saves = QHBoxLayout()
        saves.addWidget(self.save_folder_button)
        saves.addWidget(self.save_library_button)
        saves.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addLayout(sample)
        layout.addWidget(self.result_label)
        layout.addLayout(saves)
        layout.addWidget(self.saved_label)
        layout.addStretch(1)
        self.try_button.clicked.connect(self.sig_try.emit)
        self.tokens_edit.returnPressed.connect(self.sig_try.emit)
        self.save_folder_button.clicked.connect(self.sig_save_folder.emit)
        self.save_library_button.clicked.connect(self.sig_save_library.emit)
        self.custom: CustomTokens | None = None

    def tokens_text(self) -> str:
        return self.tokens_edit.text()

    def sample_text(self) -> str:
        return self.sample_edit.text()

    def set_error(self, message: str) -> None:
        self.result_label.setText(f"<span style='color:#b00020'>{_escape(message)}</span>")

    def set_custom(self, custom: CustomTokens) -> None:
        self.custom = custom
        before = " ".join(f"<code>{_escape(t)}</code>" for t in custom.tokens_before)
        after = " ".join(
            f"<code style='background:#fff3a0'>{_escape(t)}</code>" if t in custom.added or t in custom.existing
            else f"<code>{_escape(t)}</code>" for t in custom.tokens_after)
        ids = ", ".join(str(i) for i in custom.ids_after)
        existing = (f"<br>Already in the vocabulary: {_escape(', '.join(custom.existing))}." if custom.existing else "")
        self.result_label.setText(
            f"<b>Before</b> ({len(custom.tokens_before)} tokens): {before}<br>"
            f"<b>After</b> ({len(custom.tokens_after)} tokens): {after}<br>"
            f"ids: {ids}<br><br>{_escape(custom.explanation)}{existing}")

    def set_saved(self, saved: SavedCustomTokens) -> None:
        if saved.model_saved:
            text = (f"Saved to {saved.path}: vocabulary {saved.size_before:,} → {saved.size_after:,}; embedding matrix "
                    f"{saved.embedding_rows_before:,} → {saved.embedding_rows_after:,} rows.")
        else:
            text = (f"Saved the tokenizer to {saved.path} (vocabulary {saved.size_before:,} → {saved.size_after:,}). "
                    "This folder has no model, so there were no embeddings to resize.")
        self.saved_label.setText(text)
