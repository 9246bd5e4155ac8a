"""A results file against its gold labels (the metrics themselves are ``services.core.metrics``), and
the comparison of two models' results on the same input.
"""

from __future__ import annotations

from dataclasses import dataclass


from services.analyse.results_store import iter_rows
from services.core.metrics import Evaluation, evaluate


def predicted_label(row: dict) -> str | None:
    """The label a result row stands for: ``label`` (classification) or the top zero-shot label."""
    if row.get("label") is not None:
        return str(row["label"])
    labels = row.get("labels")
    return str(labels[0]) if labels else None


def predicted_score(row: dict) -> float | None:
    if row.get("score") is not None:
        return float(row["score"])
    scores = row.get("scores")
    return float(scores[0]) if isinstance(scores, list) and scores else None


def gold_mapper(id2label: dict | None):
    """Map gold values written as class ids ("1") or in another case ("POSITIVE") onto the model's labels."""
    id2label = {int(k): str(v) for k, v in (id2label or {}).items()}
    by_lower = {v.lower(): v for v in id2label.values()}

    def mapped(gold: str) -> str:
        gold = gold.strip()
        if gold in by_lower.values():
            return gold
        if gold.lower() in by_lower:
            return by_lower[gold.lower()]
        if gold.lstrip("-").isdigit() and int(gold) in id2label:
            return id2label[int(gold)]
        return gold

    return mapped


def evaluate_file(results_path, id2label: dict | None = None) -> Evaluation | None:
    """Evaluate a results file against its gold labels; ``None`` if no row has a gold label."""
    mapper = gold_mapper(id2label)
    gold, predicted = [], []
    without = 0
    for _offset, row in iter_rows(results_path):
        label = predicted_label(row)
        if row.get("gold") in (None, "") or label is None:
            without += 1
            continue
        gold.append(mapper(str(row["gold"])))
        predicted.append(label)
    if not gold:
        return None
    present = set(gold) | set(predicted)  # classes in gold or predictions (as sklearn's macro average)
    known = [str(v) for v in (id2label or {}).values() if str(v) in present]
    labels = known + sorted(present - set(known))
    result = evaluate(gold, predicted, labels)
    result.without_gold = without
    return result


@dataclass
class Comparison:
    total: int  # records present in both results
    agree: int
    disagreements: list[dict]  # id, file, line, text, label_a, score_a, label_b, score_b
    only_a: int = 0
    only_b: int = 0

    @property
    def agreement(self) -> float:
        return self.agree / self.total if self.total else 0.0

    def summary(self) -> str:
        return (f"agreement={self.agreement * 100:.2f}% ({self.agree:,} of {self.total:,} records); "
                f"{self.total - self.agree:,} disagreements")


def compare_files(path_a, path_b, limit: int = 100_000) -> Comparison:
    """Join two results files by record id; count agreement; list (up to ``limit``) disagreements."""
    first: dict[str, tuple[str | None, float | None]] = {}
    for _offset, row in iter_rows(path_a):
        first[row["id"]] = (predicted_label(row), predicted_score(row))
    total = agree = only_b = 0
    disagreements: list[dict] = []
    seen = 0
    for _offset, row in iter_rows(path_b):
        entry = first.get(row["id"])
        if entry is None:
            only_b += 1
            continue
        seen += 1
        total += 1
        label_b = predicted_label(row)
        if entry[0] == label_b:
            agree += 1
        elif len(disagreements) < limit:
            disagreements.append({"id": row["id"], "file": row.get("file"), "line": row.get("line"),
                                  "text": row.get("text", ""), "label_a": entry[0], "score_a": entry[1],
                                  "label_b": label_b, "score_b": predicted_score(row)})
    return Comparison(total, agree, disagreements, len(first) - seen, only_b)
