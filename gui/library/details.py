"""The details of one library entry: config summary, labels, files with sizes, and the model card."""

from __future__ import annotations

import html
import json
import os
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSplitter, QTextBrowser, QVBoxLayout, QWidget

from gui.library.model_table import SOURCE_LABELS, format_date, format_parameters
from services.library.ops import format_size
from services.library.scan import ModelEntry
from services.library.model_card import model_card_html
from services.core.tasks import TASKS

CONFIG_FIELDS = [("model_type", "Model type"), ("hidden_size", "Hidden size"), ("num_hidden_layers", "Layers"),
                 ("num_attention_heads", "Attention heads"), ("vocab_size", "Vocabulary"),
                 ("max_position_embeddings", "Max positions"), ("n_embd", "Hidden size"), ("n_layer", "Layers"),
                 ("n_head", "Attention heads"), ("n_positions", "Max positions"), ("torch_dtype", "Saved dtype"),
                 ("dtype", "Saved dtype"), ("transformers_version", "Saved with transformers")]
MAX_FILES = 60


def _row(key: str, value: str, colour: str = "") -> str:
    style = f" style='color:{colour}'" if colour else ""
    return f"<tr><td style='padding-right:12px'><b>{html.escape(key)}</b></td><td{style}>{value}</td></tr>"


def _config(folder: Path) -> dict:
    try:
        data = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


def _files(folder: Path) -> list[tuple[str, int]]:
    found = []
    for directory, dirs, names in os.walk(folder, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(names):
            path = Path(directory) / name
            try:
                size = path.stat().st_size
            except OSError:
                size = -1  # a dangling link
            found.append((path.relative_to(folder).as_posix(), size))
            if len(found) >= MAX_FILES:
                return found
    return found


def details_html(entry: ModelEntry) -> str:
    """The summary, labels and file list of ``entry`` as HTML (everything from disk is escaped)."""
    esc = html.escape
    rows = [_row("Name", esc(entry.name)), _row("Source", esc(SOURCE_LABELS.get(entry.source, entry.source))),
            _row("Folder", esc(str(entry.path)))]
    if entry.repo_id:
        rows.append(_row("Hub repository", esc(entry.repo_id) + (f" @ {esc(entry.revision[:10])}" if entry.revision else "")))
    source_file = Path(entry.path) / ".workbench-source.json"
    if source_file.is_file():
        try:
            origin = json.loads(source_file.read_text(encoding="utf-8"))
            rows.append(_row("Downloaded from", esc(f"{origin.get('repo_id')} @ {str(origin.get('commit', ''))[:10]}")))
        except (OSError, ValueError):
            pass
    if entry.problem:
        rows.append(_row("Problem", esc(entry.problem), "#b00020"))
    rows += [_row("Architecture", esc(entry.architecture or "—")),
             _row("Tasks", esc(", ".join(TASKS.get(t, t) for t in entry.tasks) or "none this app runs")),
             _row("Parameters", esc(format_parameters(entry.parameters))),
             _row("Size on disk", esc(format_size(entry.size_bytes)))]
    if entry.pickle_weights:
        rows.append(_row("Weights", "pickle (.bin) — loading a pickle can run code; prefer safetensors", "#b35c00"))
    else:
        rows.append(_row("Weights", esc(entry.format)))
    rows += [_row("Tokenizer", esc(entry.tokenizer_class or "—")), _row("Modified", esc(format_date(entry.modified)))]
    if entry.remote_code:
        rows.append(_row("Remote code", "needs trust_remote_code (Python code shipped with the model)", "#b00020"))
    if entry.read_only:
        rows.append(_row("Read-only", "duplicate it into the library to rename it or edit its labels"))
    config = _config(Path(entry.path))
    seen = set()
    for key, label in CONFIG_FIELDS:
        if key in config and label not in seen:
            seen.add(label)
            rows.append(_row(label, esc(str(config[key]))))
    parts = [f"<h3>{esc(entry.name)}</h3>", "<table>" + "".join(rows) + "</table>"]
    if entry.labels:
        items = "".join(f"<tr><td>{i}</td><td>{esc(name)}</td></tr>" for i, name in enumerate(entry.labels))
        parts.append(f"<h4>Labels ({len(entry.labels)})</h4><table><tr><th>id</th><th>label</th></tr>{items}</table>")
    files = _files(Path(entry.path)) if Path(entry.path).is_dir() else []
    if files:
        items = "".join(f"<tr><td>{esc(name)}</td><td align='right'>{'missing' if size < 0 else esc(format_size(size))}</td></tr>"
                        for name, size in files)
        more = "<p>…</p>" if len(files) >= MAX_FILES else ""
        parts.append(f"<h4>Files</h4><table>{items}</table>{more}")
    return "\n".join(parts)


class ModelDetails(QWidget):
    """Shows one entry: the summary (config, labels, files) beside the model card rendered from README.md."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.browser = QTextBrowser()
        self.browser.setObjectName("libraryDetails")
        self.card = QTextBrowser()
        self.card.setObjectName("libraryModelCard")
        self.card.setOpenExternalLinks(True)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.browser)
        self.splitter.addWidget(self.card)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.splitter)
        self.entry: ModelEntry | None = None
        self.show_entry(None)

    def show_entry(self, entry: ModelEntry | None) -> None:
        self.entry = entry
        if entry is None:
            self.browser.setHtml("<p><i>Select a model to see its details.</i></p>")
            self.card.setHtml("<p><i>The model card (README.md) appears here.</i></p>")
            return
        self.browser.setHtml(details_html(entry))
        card = model_card_html(entry.path) if Path(entry.path).is_dir() else ""
        self.card.setHtml("<p style='color:#666'><b>Model card</b> (README.md)</p>" + card)

    def text(self) -> str:
        return self.browser.toPlainText() + "\n" + self.card.toPlainText()

    def html(self) -> str:
        return self.browser.toHtml() + self.card.toHtml()
