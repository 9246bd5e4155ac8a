"""The Tokenizer panel: what ``AutoTokenizer`` makes of a text, explained.

Tabs: the token table (hover a row and its span lights up in the input, and vice versa), the steps
tokenize → convert_tokens_to_ids → decode with a round-trip check, batches with padding and
truncation, custom special tokens (saved with resized embeddings), and a side-by-side comparison.
All tokenizer work runs on the job runner ("io" lane; a newer request supersedes an older one).
"""

from __future__ import annotations

import bisect

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (QHBoxLayout, QInputDialog, QLabel, QLineEdit, QSplitter,
                               QStackedWidget, QTabWidget, QVBoxLayout, QWidget)

from gui.common import file_dialogs
from gui.common.layout import size_to_current_page
from gui.context import AppContext
from gui.dialogs import error_text, show_error
from gui.common.first_paint import OnFirstPaint
from gui.tokenizer.batch_view import TokenBatchView
from gui.tokenizer.compare_view import TokenCompareView
from gui.tokenizer.custom_view import TokenCustomView
from gui.tokenizer.source import TokenizerSourcePicker
from gui.tokenizer.steps_view import TokenStepsView
from gui.tokenizer.token_table import ROLE_COLOURS, TokenTableView, TokenTextInput
from services.tokenizer.inspect import Encoding, TokenizerHandle

SEED_TEXT = "I'm so excited to be learning about large language models."
DEBOUNCE_MS = 250
LEGEND = (("cls_token", "[CLS] summary"), ("sep_token", "separator"), ("pad_token", "padding"),
          ("mask_token", "mask"), ("unk_token", "unknown"), ("bos_token", "begin/end"), ("custom", "custom"))


class TokenizerPanel(QWidget):
    TITLE = "Tokenizer"
    OBJECT_NAME = "TokenizerDock"
    AREA = "main"

    sig_encoded = Signal(object)  # Encoding, after the table was filled
    sig_loaded = Signal(object)  # TokenizerHandle

    def __init__(self, context: AppContext, parent: QWidget | None = None):
        super().__init__(parent)
        self.context = context
        self.handle: TokenizerHandle | None = None
        self.encoding: Encoding | None = None
        self.steps = None
        self.last_error = ""
        self._starts: list[int] = []
        self._started = False
        self.source = TokenizerSourcePicker(context)
        self.info_label = QLabel("Loading the tokenizer…")
        self.text_input = TokenTextInput()
        self.text_input.setPlainText(SEED_TEXT)
        self.text_input.setMaximumHeight(110)
        self.text_input.setMinimumHeight(48)
        self.text_input.setToolTip("The text to tokenize. Hover a word to find its tokens in the table.")
        self.pair_input = QLineEdit()
        self.pair_input.setPlaceholderText("Optional second segment (sentence pair): token_type_ids become 1 here")
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.table = TokenTableView()
        self.steps_view = TokenStepsView()
        self.batch_view = TokenBatchView()
        self.custom_view = TokenCustomView()
        self.compare_view = TokenCompareView()
        self.tabs = QTabWidget()
        tokens_tab = QWidget()
        tokens_layout = QVBoxLayout(tokens_tab)
        tokens_layout.addWidget(self.table, 1)
        tokens_layout.addWidget(self._legend())
        self.tabs.addTab(tokens_tab, "Tokens")
        self.tabs.addTab(self.steps_view, "Steps")
        self.tabs.addTab(self.batch_view, "Batch")
        self.tabs.addTab(self.custom_view, "Custom tokens")
        self.tabs.addTab(self.compare_view, "Compare")
        size_to_current_page(self.tabs.findChild(QStackedWidget))  # as tall as the open tab needs
        top = QWidget()
        top_layout = QVBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        source_row = QHBoxLayout()
        source_row.addWidget(QLabel("Tokenizer:"))
        source_row.addWidget(self.source, 1)
        top_layout.addLayout(source_row)
        top_layout.addWidget(self.info_label)
        top_layout.addWidget(self.text_input)
        top_layout.addWidget(self.pair_input)
        top_layout.addWidget(self.status)
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(top)
        splitter.addWidget(self.tabs)
        splitter.setStretchFactor(1, 1)
        layout = QVBoxLayout(self)  # the main window puts the panel in a scroll area
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(splitter)
        self._first_paint = OnFirstPaint(self, self._on_first_paint)
        self._timer = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._timer.timeout.connect(self.tokenize)
        self._batch_timer = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._batch_timer.timeout.connect(self.run_batch)
        self._wire()

    def _legend(self) -> QLabel:
        parts = [f"<span style='background:{ROLE_COLOURS[key]}'>&nbsp;{name}&nbsp;</span>" for key, name in LEGEND]
        label = QLabel("Special tokens: " + " ".join(parts) + "  (hover a row for what it is for)")
        label.setTextFormat(Qt.TextFormat.RichText)
        label.setWordWrap(True)
        return label

    def _wire(self) -> None:
        self.source.sig_source_changed.connect(lambda _spec: self.load_source())
        self.source.sig_source_changed.connect(lambda _spec: self.compare_view.set_choices(self.source.choices()))
        self.text_input.textChanged.connect(self._schedule)
        self.pair_input.textChanged.connect(lambda _t: self._schedule())
        self.table.sig_hovered.connect(self._on_row_hovered)
        self.text_input.sig_hovered_char.connect(self._on_char_hovered)
        self.batch_view.sig_requested.connect(lambda: self._batch_timer.start())
        self.custom_view.sig_try.connect(self.try_custom_tokens)
        self.custom_view.sig_save_folder.connect(self._save_custom_to_folder_dialog)
        self.custom_view.sig_save_library.connect(self._save_custom_to_library_dialog)
        self.compare_view.sig_requested.connect(self.run_compare)
        self.compare_view.sig_open_folder.connect(self._compare_folder_dialog)
        self.tabs.currentChanged.connect(self._on_tab_changed)
        self.context.sig_open_model.connect(self._on_open_model)
        self.context.catalogue.sig_changed.connect(self._on_models_changed)
        self.compare_view.set_choices(self.source.choices())

    def _on_models_changed(self, changes) -> None:
        """The model catalogue changed: new choices to compare with; compared models follow a rename."""
        self.compare_view.set_choices(self.source.choices())
        self.compare_view.follow(changes)

    # -- loading ---------------------------------------------------------------------------------
    def _on_first_paint(self) -> None:
        """Load the tokenizer when the panel is first on screen, never on the start-up path."""
        if not self._started:
            self.load_source()

    def load_source(self, spec: str | None = None):
        spec = spec or self.source.current_spec()
        if not spec:
            return None
        self._started = True
        self.info_label.setText(f"Loading the tokenizer of {spec}…")
        from services.tokenizer.inspect import load_tokenizer

        return self.context.runner.submit(f"Load tokenizer {spec}", lambda progress, cancel: load_tokenizer(spec),
                                          lane="io", key="tokenizer-load", on_result=self._on_loaded,
                                          on_error=self._on_load_error)

    def _on_loaded(self, handle: TokenizerHandle) -> None:
        from services.tokenizer.compare import tokenizer_family

        self.handle = handle
        tokenizer = handle.tokenizer
        limit = getattr(tokenizer, "model_max_length", 0)
        limit_text = f"{limit:,}" if isinstance(limit, int) and limit < 1_000_000 else "unlimited"
        self.info_label.setText(
            f"<b>{handle.name}</b> · {tokenizer_family(tokenizer)} · vocabulary {len(tokenizer):,} · "
            f"model_max_length {limit_text} · pads on the {tokenizer.padding_side}"
            + ("" if handle.has_model else " · tokenizer only (no model in this folder)"))
        self.sig_loaded.emit(handle)
        self.tokenize()
        if self.tabs.currentWidget() is self.batch_view:
            self.run_batch()
        if self.tabs.currentWidget() is self.compare_view:
            self.run_compare()

    def _on_load_error(self, error: BaseException) -> None:
        self.handle = None
        self.encoding = None
        self.table.set_encoding(None)
        self.steps_view.set_steps(None)
        self.info_label.setText(f"<span style='color:#b00020'>{error_text(error)}</span>")
        self._set_status(error_text(error), error=True)
        show_error(self, "Cannot load the tokenizer", error)

    def _on_open_model(self, spec: str, panel: str) -> None:
        if panel != self.OBJECT_NAME:
            return
        if spec == "builtin":
            index = self.source.combo.findData("builtin")
            if index >= 0 and index != self.source.combo.currentIndex():
                self.source.combo.setCurrentIndex(index)
            else:
                self.load_source()
        else:
            self.source.open_folder(spec)

    # -- tokenizing ------------------------------------------------------------------------------
    def _schedule(self) -> None:
        self._timer.start()

    def tokenize(self):
        """Encode the input (and the optional pair) on a worker; the table fills when it is done."""
        self._timer.stop()
        if self.handle is None:
            return None
        text, pair = self.text_input.toPlainText(), self.pair_input.text()
        if not text.strip():
            self.encoding = None
            self.table.set_encoding(None)
            self.steps_view.set_steps(None)
            self._set_status("The text is empty: type a sentence to see its tokens.", error=True)
            return None
        handle = self.handle

        def work(progress, cancel):
            from services.tokenizer.inspect import encode, steps

            encoding = encode(handle, text, pair, progress=progress, cancel=cancel)
            return encoding, steps(handle, text, cancel=cancel)

        self._set_status(f"Tokenizing {len(text):,} characters…")
        return self.context.runner.submit("Tokenize", work, lane="io", key="tokenizer-encode",
                                          on_result=self._on_encoded, on_error=self._on_encode_error)

    def _on_encoded(self, result) -> None:
        encoding, steps = result
        self.encoding, self.steps = encoding, steps
        self._starts = [row.start if row.segment == 0 and row.has_span else -1 for row in encoding.rows]
        self.table.set_encoding(encoding)
        self.steps_view.set_steps(steps)
        unk = self.handle.tokenizer.unk_token if self.handle else "unknown"
        text = (f"<b>{len(encoding.rows):,} tokens</b> · <b>{encoding.unknown_count}</b> unknown ({unk})"
                + (f": {', '.join(repr(c) for c in encoding.unknown_chars[:6])}" if encoding.unknown_chars else "")
                + (" · round trip lossless" if steps.lossless else " · round trip lossy (see Steps)"))
        for note in encoding.notes:
            text += f"<br>{note}"
        self._set_status(text)
        if self.tabs.currentWidget() is self.compare_view and self.compare_view.specs():
            self.run_compare()
        self.sig_encoded.emit(encoding)

    def _on_encode_error(self, error: BaseException) -> None:
        self._set_status(error_text(error), error=True)

    def _set_status(self, text: str, error: bool = False) -> None:
        self.last_error = text if error else ""
        self.status.setText(f"<span style='color:#b00020'>{text}</span>" if error else text)

    # -- hover linking ---------------------------------------------------------------------------
    def _on_row_hovered(self, position: int) -> None:
        self.pair_input.deselect()
        if self.encoding is None or position < 0 or position >= len(self.encoding.rows):
            self.text_input.highlight(None, None)
            return
        row = self.encoding.rows[position]
        if row.segment == 1 and row.has_span:
            self.text_input.highlight(None, None)
            self.pair_input.setSelection(row.start, row.end - row.start)
        else:
            self.text_input.highlight(row.start, row.end)

    def token_at_char(self, char: int) -> int | None:
        """The table row whose span in the first text covers character ``char``."""
        if self.encoding is None or char < 0:
            return None
        index = bisect.bisect_right(self._starts, char) - 1
        while index >= 0 and self._starts[index] == -1:
            index -= 1
        if index >= 0:
            row = self.encoding.rows[index]
            if row.has_span and row.start <= char < row.end:
                return index
        return self.encoding.row_at(0, char)  # overlapping spans (e.g. SentencePiece "▁")

    def _on_char_hovered(self, char: int) -> None:
        position = self.token_at_char(char)
        self.table.highlight_row(-1 if position is None else position)
        if position is not None:
            row = self.encoding.rows[position]
            self.text_input.highlight(row.start, row.end)
        else:
            self.text_input.highlight(None, None)

    def _on_tab_changed(self, _index: int) -> None:
        if self.tabs.currentWidget() is self.batch_view and self.batch_view.result is None:
            self.run_batch()
        elif self.tabs.currentWidget() is self.compare_view and self.compare_view.specs():
            self.run_compare()

    # -- batch -----------------------------------------------------------------------------------
    def run_batch(self):
        self._batch_timer.stop()
        if self.handle is None:
            return None
        from services.tokenizer.batch import split_lines

        handle, lines, options = self.handle, split_lines(self.batch_view.text()), self.batch_view.options()

        def work(progress, cancel):
            from services.tokenizer.batch import encode_batch

            return encode_batch(handle, lines, progress=progress, cancel=cancel, **options)

        return self.context.runner.submit("Encode batch", work, lane="io", key="tokenizer-batch",
                                          on_result=self.batch_view.set_result,
                                          on_error=lambda error: self.batch_view.set_error(error_text(error)))

    # -- custom tokens ---------------------------------------------------------------------------
    def _custom_tokens(self) -> list[str] | None:
        """The tokens typed in the Custom tokens tab, or None (with the reason shown) if unusable."""
        if self.handle is None:
            return None
        from services.core.errors import InputError
        from services.tokenizer.custom import parse_tokens

        try:
            return parse_tokens(self.custom_view.tokens_text())
        except InputError as error:
            self.custom_view.set_error(error_text(error))
            return None

    def try_custom_tokens(self):
        tokens = self._custom_tokens()
        if tokens is None:
            return None
        handle, sample = self.handle, self.custom_view.sample_text()

        def work(progress, cancel):
            from services.tokenizer.custom import add_custom_tokens

            return add_custom_tokens(handle, tokens, sample)

        return self.context.runner.submit("Add custom tokens", work, lane="io", key="tokenizer-custom",
                                          on_result=self.custom_view.set_custom,
                                          on_error=lambda error: self.custom_view.set_error(error_text(error)))

    def save_custom_tokens(self, folder: str | None = None, library_name: str | None = None):
        """Add the tokens, resize the model's embeddings and save (on the model lane)."""
        tokens = self._custom_tokens()
        if tokens is None:
            return None
        spec, root = str(self.handle.path), self.context.library_dir

        def work(progress, cancel):
            from services.tokenizer.custom import save_with_custom_tokens

            return save_with_custom_tokens(spec, tokens, folder=folder, library_name=library_name,
                                           library_root=root if library_name else None, progress=progress,
                                           cancel=cancel)

        def done(saved) -> None:
            self.custom_view.set_saved(saved)
            if library_name:
                self.context.sig_models_changed.emit()
            self.context.sig_status.emit(f"Saved to {saved.path}")

        return self.context.runner.submit("Save with resized embeddings", work, lane="model", on_result=done)

    def _save_custom_to_folder_dialog(self) -> None:
        folder = file_dialogs.existing_folder(self, "Save tokenizer + model into (an empty folder)")
        if folder:
            self.save_custom_tokens(folder=folder)

    def _save_custom_to_library_dialog(self) -> None:
        if self.handle is None:
            return
        name, ok = QInputDialog.getText(self, "Save to the library", "Name of the new model:",
                                        text=f"{self.handle.path.name}-custom-tokens")
        if ok and name.strip():
            self.save_custom_tokens(library_name=name.strip())

    # -- compare ---------------------------------------------------------------------------------
    def run_compare(self):
        others = self.compare_view.specs()
        current = self.source.current_spec()
        text = self.text_input.toPlainText()
        if not others or not current:
            self.compare_view.set_comparison(None)
            self.compare_view.set_message("Add a tokenizer to compare with.")
            return None
        if not text.strip():
            self.compare_view.set_message("The text is empty: type a sentence to compare.")
            return None
        specs = [current] + [spec for spec in others if spec != current]

        def work(progress, cancel):
            from services.tokenizer.compare import compare_tokenizers
            from services.tokenizer.inspect import load_tokenizer

            handles = [load_tokenizer(spec) for spec in specs]
            cancel.check()
            return compare_tokenizers(handles, text, progress=progress, cancel=cancel)

        def failed(error: BaseException) -> None:
            self.compare_view.set_comparison(None)
            self.compare_view.set_message(f"<span style='color:#b00020'>{error_text(error)}</span>")

        return self.context.runner.submit("Compare tokenizers", work, lane="io", key="tokenizer-compare",
                                          on_result=self.compare_view.set_comparison, on_error=failed)

    def _compare_folder_dialog(self) -> None:
        folder = file_dialogs.existing_folder(self, "Add a tokenizer or model folder to compare")
        if folder:
            self.compare_view.add_spec(folder)
