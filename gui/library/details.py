"""The details of one library entry: config summary, labels, files with sizes, and the model card
(read and rendered on an io job, never on the GUI thread)."""

from __future__ import annotations

import html
import json
import os
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QSplitter, QTextBrowser, QVBoxLayout, QWidget

from gui.jobs.runner import Job, JobRunner
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


@dataclass(frozen=True)
class DetailsPages:
    """The two pages of the details pane, rendered on a worker."""

    entry: ModelEntry
    summary: str  # HTML: config summary, labels, files
    card: str  # HTML: the model card (README.md)


def render_details(entry: ModelEntry) -> DetailsPages:
    """Read config.json, walk the folder and render the card (file work: run it as an io job)."""
    card = model_card_html(entry.path) if Path(entry.path).is_dir() else ""
    return DetailsPages(entry, details_html(entry), CARD_HEADING + card)


CARD_HEADING = "<p style='color:#666'><b>Model card</b> (README.md)</p>"


class ModelDetails(QWidget):
    """Shows one entry: the summary (config, labels, files) beside the model card rendered from README.md.

    Reading the folder and rendering the card run as an io job (``runner``); while it runs the pane
    shows the entry's name, and when the selection moves on, only the latest selection is shown.
    """

    sig_shown = Signal(object)  # the entry whose details are now on screen (None: nothing selected)

    def __init__(self, runner: JobRunner, parent: QWidget | None = None):
        super().__init__(parent)
        self.runner = runner
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
        self.shown: ModelEntry | None = None  # the entry whose pages are on screen
        self.job: Job | None = None
        self._request = 0
        self.show_entry(None)

    def show_entry(self, entry: ModelEntry | None) -> Job | None:
        """Show ``entry``'s details (read on a worker); returns the job, None when nothing is selected."""
        self.entry = entry
        self._request += 1
        if entry is None:
            if self.job is not None and self.job.is_active:
                self.job.cancel()
            self.browser.setHtml("<p><i>Select a model to see its details.</i></p>")
            self.card.setHtml("<p><i>The model card (README.md) appears here.</i></p>")
            self.shown = None
            self.sig_shown.emit(None)
            return None
        if self.shown is None or self.shown.spec != entry.spec:
            self.browser.setHtml(f"<h3>{html.escape(entry.name)}</h3><p><i>Reading the folder…</i></p>")
            self.card.setHtml(CARD_HEADING)
        number = self._request
        self.job = self.runner.submit(
            f"Details of {entry.name}", lambda progress, cancel: render_details(entry), lane="io",
            key="library-details", needs_torch=False, listed=False,
            on_result=lambda pages: self._show(pages, number), on_error=lambda error: self._failed(error, number))
        return self.job

    def _show(self, pages: DetailsPages, number: int) -> None:
        if number != self._request:
            return  # the selection moved on while this was read
        self.browser.setHtml(pages.summary)
        self.card.setHtml(pages.card)
        self.shown = pages.entry
        self.sig_shown.emit(pages.entry)

    def _failed(self, error: BaseException, number: int) -> None:
        if number == self._request:
            self.browser.setHtml(f"<p style='color:#b00020'>Could not read the folder: {html.escape(str(error))}</p>")
            self.shown = None
            self.sig_shown.emit(self.entry)

    def text(self) -> str:
        return self.browser.toPlainText() + "\n" + self.card.toPlainText()

    def html(self) -> str:
        return self.browser.toHtml() + self.card.toHtml()
