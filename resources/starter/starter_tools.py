"""Tools for the starter data sets: diversity figures, and bracket markup → CoNLL.

    python resources/starter/starter_tools.py stats          # the figures quoted in README.md
    python resources/starter/starter_tools.py conll IN.txt OUT.conll

The NER files were written one sentence per line with the entities in brackets, e.g.
``[PER J. R. Okafor] , 31 , joined [ORG Vale Rovers] from [LOC Lisbon] .``, and turned into
CoNLL (``token TAG`` per line, BIO tags) by ``conll``: punctuation and a possessive ``'s`` become
tokens of their own; abbreviations such as ``U.N.``, ``Mr.`` and initials stay whole.
"""

from __future__ import annotations

import csv
import re
import sys
from collections import Counter
from functools import lru_cache
from pathlib import Path

HERE = Path(__file__).resolve().parent
PUNCT = "\"'()[]{},;:!?.…“”‘’"
ABBREVIATION = re.compile(
    r"^(?:[A-Za-z]\.){2,}$|^(?:Mr|Mrs|Ms|Dr|St|Jr|Sr|Inc|Ltd|Co|Corp|Gen|Col|Sgt|Lt|Capt|Prof|Rev|Gov|Sen|Rep|"
    r"Ft|Mt|No|vs|Jan|Feb|Mar|Apr|Aug|Sept|Sep|Oct|Nov|Dec|Bros|Ave|Blvd|Plc|Dept|approx)\.$")
ENTITY = re.compile(r"\[(PER|ORG|LOC|MISC) ([^\[\]]+?)\]")


def split_tokens(chunk: str) -> list[str]:
    tokens: list[str] = []
    for raw in chunk.split():
        if raw in ("'s", "'S", "’s"):  # a possessive written as its own token
            tokens.append(raw)
            continue
        lead, trail = [], []
        while raw and raw[0] in PUNCT and not ABBREVIATION.match(raw):
            lead.append(raw[0])
            raw = raw[1:]
        while raw and raw[-1] in PUNCT and not ABBREVIATION.match(raw) and not re.fullmatch(r"[A-Za-z]\.", raw):
            trail.insert(0, raw[-1])
            raw = raw[:-1]
        middle = []
        if raw:
            possessive = re.fullmatch(r"(.+?)('s|'S|’s)", raw)
            middle = [possessive.group(1), possessive.group(2)] if possessive else [raw]
        tokens += lead + middle + trail
    return tokens


def parse_marked_line(line: str) -> list[tuple[str, str]]:
    """``[PER Ann Lee] met [ORG Acme] .`` → ``[(token, BIO tag), ...]``; ValueError on bad markup."""
    pairs: list[tuple[str, str]] = []
    position = 0
    for match in ENTITY.finditer(line):
        pairs += [(token, "O") for token in split_tokens(line[position:match.start()])]
        words = split_tokens(match.group(2))
        if not words:
            raise ValueError("empty entity")
        pairs += [(word, ("B-" if i == 0 else "I-") + match.group(1)) for i, word in enumerate(words)]
        position = match.end()
    pairs += [(token, "O") for token in split_tokens(line[position:])]
    if any(c in token for token, _ in pairs for c in "[]"):
        raise ValueError("unbalanced or unknown bracket markup (types: PER ORG LOC MISC)")
    return pairs


def to_conll(lines: list[str]) -> str:
    blocks = []
    for line in lines:
        line = line.strip()
        if line and not line.startswith("#"):
            blocks.append("\n".join(f"{token} {tag}" for token, tag in parse_marked_line(line)))
    return "\n\n".join(blocks) + "\n"


def read_conll(path: Path) -> list[list[tuple[str, str]]]:
    text = path.read_text(encoding="utf-8")
    return [[tuple(line.split(" ")) for line in block.split("\n")] for block in text.strip("\n").split("\n\n")]


def read_sentiment(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+(?:'[a-z]+)?", text.lower())


def ngrams(items: list[str], n: int) -> list[tuple[str, ...]]:
    return [tuple(items[i:i + n]) for i in range(len(items) - n + 1)]


def diversity(texts: list[str]) -> dict:
    """Word types, distinct-3-gram ratio (distinct ÷ all) and word-length percentiles of ``texts``."""
    tokenised = [words(t) for t in texts]
    all_words = [w for ws in tokenised for w in ws]
    trigrams = [g for ws in tokenised for g in ngrams(ws, 3)]
    lengths = sorted(len(ws) for ws in tokenised)

    def at(q: float) -> int:
        return lengths[min(len(lengths) - 1, int(q * len(lengths)))]

    return {"texts": len(texts), "words": len(all_words), "word_types": len(set(all_words)),
            "distinct_3gram_ratio": round(len(set(trigrams)) / max(1, len(trigrams)), 3),
            "length_min": lengths[0], "length_p10": at(0.1), "length_median": at(0.5), "length_p90": at(0.9),
            "length_max": lengths[-1]}


def shared_5grams(test: list[str], train: list[str], common_words: int = 200) -> dict:
    """How many test texts share a 5-gram with the training texts: any 5-gram, and beyond common
    phrases (a 5-gram made only of the ``common_words`` most frequent training words, such as
    "it turned out to be", is a common phrase)."""
    frequency = Counter(w for t in train for w in words(t))
    common = {w for w, _ in frequency.most_common(common_words)}
    train_grams = {g for t in train for g in ngrams(words(t), 5)}
    shared = [[g for g in ngrams(words(t), 5) if g in train_grams] for t in test]
    beyond = [t for t, grams in zip(test, shared) if any(not all(w in common for w in g) for g in grams)]
    return {"test_texts": len(test), "sharing_a_5gram": sum(1 for grams in shared if grams),
            "beyond_common_phrases": len(beyond), "_flagged": beyond}


@lru_cache(maxsize=1)
def stats() -> dict:
    sentiment = {split: read_sentiment(HERE / f"sentiment_{split}.csv") for split in ("train", "test")}
    ner = {split: read_conll(HERE / f"ner_{split}.conll") for split in ("train", "test")}
    sentences = {split: [" ".join(t for t, _ in s) for s in ner[split]] for split in ner}
    figures = {
        "sentiment_train": diversity([r["text"] for r in sentiment["train"]]),
        "sentiment_test": diversity([r["text"] for r in sentiment["test"]]),
        "sentiment_overlap": shared_5grams([r["text"] for r in sentiment["test"]], [r["text"] for r in sentiment["train"]]),
        "ner_train": diversity(sentences["train"]),
        "ner_test": diversity(sentences["test"]),
        "ner_overlap": shared_5grams(sentences["test"], sentences["train"]),
    }
    for split in ("train", "test"):
        tokens = [t for s in ner[split] for t, _ in s]
        figures[f"ner_{split}"]["entities"] = dict(sorted(Counter(tag[2:] for s in ner[split] for _, tag in s
                                                                  if tag.startswith("B-")).items()))
        figures[f"ner_{split}"]["tokens_with_digits"] = round(sum(any(c.isdigit() for c in t) for t in tokens) / len(tokens), 3)
        figures[f"sentiment_{split}"]["labels"] = dict(sorted(Counter(r["label"] for r in sentiment[split]).items()))
    return figures


def main(argv: list[str]) -> int:
    if argv[:1] == ["conll"] and len(argv) == 3:
        Path(argv[2]).write_text(to_conll(Path(argv[1]).read_text(encoding="utf-8").splitlines()), encoding="utf-8")
        return 0
    if argv[:1] == ["stats"]:
        for name, values in stats().items():
            print(f"{name}: " + ", ".join(f"{k}={v}" for k, v in values.items() if not k.startswith("_")))
        return 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
