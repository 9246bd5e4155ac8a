"""A model card (README.md) as safe HTML for a rich-text view.

Raw HTML in the card is escaped (shown as text, never interpreted), ``javascript:`` links are
dropped, and the YAML front matter the Hub puts at the top is shown as a small preformatted block.
"""

from __future__ import annotations

import html
import os
from pathlib import Path

MAX_CARD_CHARS = 200_000


def split_front_matter(text: str) -> tuple[str, str]:
    """(front matter without the ``---`` fences, the rest) — front matter is "" when there is none."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return "", text
    for index in range(1, len(lines)):
        if lines[index].strip() in ("---", "..."):
            return "\n".join(lines[1:index]), "\n".join(lines[index + 1:])
    return "", text


def render_markdown(text: str) -> str:
    """Markdown → HTML with raw HTML escaped."""
    from markdown_it import MarkdownIt

    renderer = MarkdownIt("commonmark", {"html": False}).enable("table")
    return renderer.render(text)


def render_model_card(text: str) -> str:
    text = text[:MAX_CARD_CHARS]
    front, body = split_front_matter(text)
    parts = []
    if front.strip():
        parts.append(f"<pre style='color:#555'>{html.escape(front)}</pre>")
    parts.append(render_markdown(body))
    return "\n".join(parts)


def model_card_html(folder: str | os.PathLike) -> str:
    """The folder's README.md as HTML, or a short note when there is none."""
    path = Path(folder) / "README.md"
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return "<p><i>No model card (README.md) in this folder.</i></p>"
    if not text.strip():
        return "<p><i>The model card (README.md) is empty.</i></p>"
    return render_model_card(text)
