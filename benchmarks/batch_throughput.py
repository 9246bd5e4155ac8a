"""Throughput of the Analyse engine against ``transformers.pipeline`` on the same texts and model.

In one process: builds a 2-label text classifier on the built-in encoder (all-MiniLM-L6-v2 with a
head fitted in a few seconds to the sentiment of the sentences' first adjective, so that most labels
are clear-cut and agreement between precisions measures the precision rather than the coin flips of
a random head; saved to a temporary folder), writes a file of English sentences of mixed length
generated from this script's own word lists, reads it back with the Analyse reader, then times

  (a) ``pipeline`` called once per text,
  (b) ``pipeline(texts, batch_size=32)``,
  (c) our engine (length buckets, dynamic padding, inference_mode),
  (d) our engine at each reduced precision this machine supports (bfloat16 on CPUs with AMX or
      AVX512-BF16, int8 dynamic quantization), each with its agreement with (c): the share of texts
      with the same label, and whether it passes the app's check (services.core.precision),

checks that (a)-(c) give the same labels (and scores to 1e-4), and prints texts/s for each.
Last line: ``vs_pipeline_loop=X vs_pipeline_batched=Y best_vs_pipeline_loop=Z best_precision=P agreement=A``:
X and Y are (c)'s texts/s divided by (a)'s and (b)'s; Z is the fastest precision that passes the
check (float32 if none does) against (a), P that precision and A its label agreement with float32.

    python benchmarks/batch_throughput.py [--texts 3000] [--seed 7] [--emulated]

``--emulated`` also runs bfloat16 where the CPU lacks native support (slow; to see how slow).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.core.warmup import configure_torch_environment  # noqa: E402

configure_torch_environment()  # torch runs here as it does in the app

SUBJECTS = ["the film", "our hotel room", "the new phone", "this restaurant", "the delivery driver", "my manager",
            "the support team", "the sequel", "the train to Berlin", "the museum guide", "her second novel",
            "the battery", "the update", "the soup", "the concert", "the landlord", "the checkout page"]
VERBS = ["was", "felt", "seemed", "turned out to be", "has always been", "became", "looked"]
ADJECTIVES = ["wonderful", "slow", "noisy", "brilliant", "broken", "cheap", "friendly", "confusing", "clean",
              "overpriced", "charming", "useless", "quick", "delightful", "cold", "crowded", "reliable", "tedious"]
CLAUSES = ["because nobody answered the phone for an hour", "although the staff tried their best",
           "and I would happily go back next summer", "so we asked for a refund the next morning",
           "which surprised everyone in the group", "even though the reviews had promised otherwise",
           "while the rain kept falling outside the window", "after we had waited for almost forty minutes",
           "and the price was fair for what you get", "but the screen scratches far too easily",
           "until the last ten minutes ruined it", "since the app crashes every time I open the settings"]
OPENERS = ["Honestly,", "To be fair,", "In short,", "Overall,", "Sadly,", "Luckily,", "As expected,", ""]


def sentence(rng: random.Random) -> str:
    """One sentence; the number of clauses is skewed so most are short and a few are long."""
    parts = [rng.choice(OPENERS), rng.choice(SUBJECTS), rng.choice(VERBS), rng.choice(ADJECTIVES)]
    for _ in range(min(12, int(rng.expovariate(0.6)))):
        parts.append(rng.choice(CLAUSES))
        if rng.random() < 0.3:
            parts += ["and", rng.choice(SUBJECTS), rng.choice(VERBS), rng.choice(ADJECTIVES)]
    text = " ".join(p for p in parts if p)
    return text[0].upper() + text[1:] + rng.choice([".", "!", "."])


def write_sentences(path: Path, count: int, seed: int) -> None:
    rng = random.Random(seed)
    with open(path, "w", encoding="utf-8") as handle:
        for _ in range(count):
            handle.write(sentence(rng) + "\n")


POSITIVE = {"wonderful", "brilliant", "cheap", "friendly", "clean", "charming", "quick", "delightful", "reliable"}


def sentiment(text: str) -> int:
    """The label the head is fitted to: the first adjective's sentiment (1 positive, 0 negative)."""
    for word in text.lower().replace(".", " ").replace("!", " ").split():
        if word in ADJECTIVES:
            return int(word in POSITIVE)
    return 0


def build_classifier(folder: Path, examples: int = 400, seed: int = 1) -> Path:
    """The built-in encoder with a 2-label head fitted (encoder frozen) to :func:`sentiment`."""
    from transformers import AutoTokenizer, BertForSequenceClassification

    from services.core.model_info import builtin_model_path

    import torch

    torch.manual_seed(0)
    source = builtin_model_path()
    tokenizer = AutoTokenizer.from_pretrained(str(source))
    model = BertForSequenceClassification.from_pretrained(str(source), num_labels=2,
                                                          id2label={0: "negative", 1: "positive"},
                                                          label2id={"negative": 0, "positive": 1})
    rng = random.Random(seed)
    texts = [sentence(rng) for _ in range(examples)]
    labels = torch.tensor([sentiment(t) for t in texts])
    model.eval()
    with torch.inference_mode():
        pooled = torch.cat([model.bert(**tokenizer(texts[i:i + 64], padding=True, return_tensors="pt")).pooler_output
                            for i in range(0, examples, 64)])
    pooled = pooled.clone()
    head = model.classifier
    optimizer = torch.optim.Adam(head.parameters(), lr=0.05)
    for _ in range(300):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(head(pooled), labels)
        loss.backward()
        optimizer.step()
    with torch.no_grad():
        accuracy = (head(pooled).argmax(-1) == labels).float().mean().item()
    print(f"head fitted on {examples} labelled sentences (encoder frozen): training accuracy {accuracy:.3f}")
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--texts", type=int, default=3000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--emulated", action="store_true", help="also run bfloat16 without native CPU support")
    args = parser.parse_args()

    import logging

    import torch
    import transformers

    from services.core import precision
    from services.core.engine import Engine, EngineOptions, usable_cores
    from services.core.files import scan_file
    from services.core.readers import ReadOptions, iter_file_records
    from services.core.models import load_model

    transformers.logging.set_verbosity_error()
    logging.getLogger("transformers").setLevel(logging.ERROR)
    threads = usable_cores()
    torch.set_num_threads(threads)
    with tempfile.TemporaryDirectory(prefix="wb-bench-") as tmp:
        tmp = Path(tmp)
        model_dir = build_classifier(tmp / "classifier")
        data = tmp / "sentences.txt"
        write_sentences(data, args.texts, args.seed)
        info, _problem = scan_file(str(data))
        texts = [record.text for record in iter_file_records(info, ReadOptions(), [])]
        loaded = load_model(str(model_dir), "text-classification")
        engine = Engine(loaded, EngineOptions())  # picks the torch thread count, used by all three below
        lengths = [len(ids) for ids in loaded.tokenizer(texts)["input_ids"]]
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(f"texts: {len(texts)}  tokens per text: min {min(lengths)}, mean {sum(lengths) / len(lengths):.1f}, "
              f"max {max(lengths)}  torch threads: {torch.get_num_threads()} of {threads} cores "
              f"(load average {load:.1f})  torch {torch.__version__}, transformers {transformers.__version__}")
        print(f"thread choice: {engine.thread_choice.explain()}")
        pipe = transformers.pipeline("text-classification", model=loaded.model, tokenizer=loaded.tokenizer,
                                     device="cpu")
        pipe(texts[:8])  # warm-up
        engine.predict_texts(texts[:8])

        start = time.perf_counter()
        loop = [pipe(text)[0] for text in texts]
        t_loop = time.perf_counter() - start
        print(f"(a) pipeline, one call per text:     {len(texts) / t_loop:8.1f} texts/s  ({t_loop:.1f} s)")

        start = time.perf_counter()
        batched = pipe(texts, batch_size=32)
        t_batched = time.perf_counter() - start
        print(f"(b) pipeline, batch_size=32:          {len(texts) / t_batched:8.1f} texts/s  ({t_batched:.1f} s)")

        start = time.perf_counter()
        ours = engine.predict_texts(texts)
        t_ours = time.perf_counter() - start
        print(f"(c) Analyse engine (batch<= {engine.batch_size}, <= {engine.max_tokens} tokens): "
              f"{len(texts) / t_ours:8.1f} texts/s  ({t_ours:.1f} s)")

        worst = 0.0
        for a, b, c in zip(loop, batched, ours):
            if not (a["label"] == b["label"] == c["label"]):
                print(f"MISMATCH labels: {a} {b} {c}")
                return 1
            worst = max(worst, abs(a["score"] - c["score"]), abs(b["score"] - c["score"]))
        if worst > 1e-4:
            print(f"MISMATCH scores: largest difference {worst:.2e}")
            return 1
        print(f"same labels for all {len(texts)} texts; largest score difference {worst:.1e}")

        best = ("float32", t_ours, 1.0)
        support = precision.precision_support("cpu")
        for name in precision.REDUCED:
            if not support[name].supported and not (args.emulated and name == "bfloat16"):
                print(f"(d) {name}: not run ({support[name].reason})")
                continue
            variant = precision.at_precision(loaded, name)
            reduced = Engine(variant, EngineOptions(threads=-1))  # the same thread count as (c)
            reduced.predict_texts(texts[:8])  # warm-up
            start = time.perf_counter()
            results = reduced.predict_texts(texts)
            seconds = time.perf_counter() - start
            verdict = precision.compare("text-classification", ours, results)
            native = "" if support[name].supported else " (emulated)"
            print(f"(d) Analyse engine, {name}{native}:{' ' * max(1, 14 - len(name) - len(native))}"
                  f"{len(texts) / seconds:8.1f} texts/s  ({seconds:.1f} s)  {t_ours / seconds:.2f}x float32, "
                  f"{verdict['agreement'] * 100:.1f} % same labels, mean score difference {verdict['score_diff']:.4f}"
                  f" -> {'passes' if verdict['passed'] else 'fails: ' + verdict['reason']}")
            if verdict["passed"] and seconds < best[1]:
                best = (name, seconds, verdict["agreement"])
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        print(f"load average after: {load:.1f}")
        print(f"vs_pipeline_loop={t_loop / t_ours:.2f} vs_pipeline_batched={t_batched / t_ours:.2f} "
              f"best_vs_pipeline_loop={t_loop / best[1]:.2f} best_precision={best[0]} agreement={best[2]:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
