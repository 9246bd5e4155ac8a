"""Training throughput: a plain ``transformers.Trainer`` run vs the Workbench training path.

Same base model (the built-in all-MiniLM-L6-v2 with a new 2-label head), same data (the starter
sentiment training set), same hyperparameters and the same number of optimizer steps, in one process:

* plain Trainer, default settings: every example padded to ``max_length``, random order;
* ours (``services.training.trainer.train_model``): unpadded examples, ``DataCollatorWithPadding``
  pads each batch to its longest member, ``group_by_length`` batches similar lengths together.

Both figures are training examples per second over the training loop (our per-epoch evaluation is
timed separately and left out). Then ours again with bfloat16 mixed precision (autocast, weights stay
float32) where the CPU supports it natively (AMX or AVX512-BF16; ``--emulated`` runs it anyway).

The last line is ``vs_trainer=X bf16_speedup=S bf16_metric_delta=D``: X is ours / plain (above 1 is
faster), S is ours in bfloat16 / ours in float32, D the bfloat16 run's validation macro-F1 minus the
float32 run's (same seed, data and steps; use enough ``--steps`` for a settled score, e.g. 300).
S and D are ``n/a`` where bfloat16 is not supported.

    python benchmarks/train_throughput.py [--steps 24] [--batch-size 16] [--max-length 128] [--emulated]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.core.warmup import configure_torch_environment  # noqa: E402

configure_torch_environment()  # torch runs here as it does in the app
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def plain_trainer_run(data, hp, steps: int) -> tuple[float, int]:
    """The textbook path: tokenize with padding="max_length", default collator, default sampler."""
    import transformers
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, Trainer, TrainingArguments

    from services.core.model_info import builtin_model_path

    transformers.set_seed(hp.seed)
    path = str(builtin_model_path())
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=len(data.labels),
                                                               id2label=data.id2label, label2id=data.label2id)
    encoded = tokenizer(data.train.inputs, padding="max_length", truncation=True, max_length=hp.max_length)
    dataset = [{**{k: encoded[k][i] for k in encoded.keys()}, "labels": data.encode(label)}
               for i, label in enumerate(data.train.targets)]
    with tempfile.TemporaryDirectory() as output_dir:
        args = TrainingArguments(output_dir=output_dir, max_steps=steps, learning_rate=hp.learning_rate,
                                 per_device_train_batch_size=hp.batch_size, warmup_steps=hp.warmup_ratio,
                                 weight_decay=hp.weight_decay, seed=hp.seed, use_cpu=True, report_to="none",
                                 save_strategy="no", eval_strategy="no", disable_tqdm=True, logging_strategy="no",
                                 dataloader_num_workers=0)
        trainer = Trainer(model=model, args=args, train_dataset=dataset)
        started = time.perf_counter()
        trainer.train()
        seconds = time.perf_counter() - started
    return seconds, steps * hp.batch_size


def our_run(data, hp):
    from services.core.model_info import BUILTIN
    from services.training.trainer import train_model

    return train_model(data, BUILTIN, hp)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=24)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--max-length", type=int, default=128)
    parser.add_argument("--emulated", action="store_true", help="run bfloat16 without native CPU support too")
    args = parser.parse_args()

    import torch
    import transformers

    transformers.logging.set_verbosity_error()
    transformers.logging.disable_progress_bar()
    from services.core.model_info import builtin_model_path
    from services.training import TEXT_CLASSIFICATION
    from services.training.config import Hyperparameters
    from services.training.data import prepare_data
    from services.training.starter import starter_files

    train_file, _test = starter_files()
    data = prepare_data(train_file, TEXT_CLASSIFICATION, validation_fraction=0.05, seed=42)
    hp = Hyperparameters(epochs=1, learning_rate=5e-5, batch_size=args.batch_size, max_length=args.max_length,
                         warmup_ratio=0.1, weight_decay=0.01, seed=42, max_steps=args.steps, patience=0,
                         freeze_embeddings=False)  # the plain Trainer trains every weight: so do we here
    tokenizer = transformers.AutoTokenizer.from_pretrained(str(builtin_model_path()))
    lengths = [len(ids) for ids in tokenizer(data.train.inputs, truncation=True, max_length=hp.max_length)["input_ids"]]
    print(f"model: all-MiniLM-L6-v2 (built-in) + 2-label head · data: {train_file.name} "
          f"({len(data.train)} training texts, {sum(lengths) / len(lengths):.0f} tokens on average, "
          f"longest {max(lengths)}) · {args.steps} steps × batch {hp.batch_size}, max_length {hp.max_length} · "
          f"torch {torch.__version__} ({torch.get_num_threads()} threads), transformers {transformers.__version__}")
    print(f"machine load average before: {os.getloadavg()[0]:.2f} (other processes distort timings)")

    plain_trainer_run(data, Hyperparameters(**{**hp.as_dict(), "max_steps": 2}), 2)  # warm-up, untimed
    plain_seconds, plain_samples = plain_trainer_run(data, hp, args.steps)
    plain_rate = plain_samples / plain_seconds
    print(f"plain Trainer (pad to max_length, random order): {plain_rate:7.1f} samples/s "
          f"({plain_samples} samples in {plain_seconds:.1f} s)")
    ours = our_run(data, hp)
    ours_rate = ours.samples_per_second
    print(f"ours (dynamic padding, group_by_length):          {ours_rate:7.1f} samples/s "
          f"({ours.train_samples} samples in {ours.train_seconds:.1f} s), validation macro-F1 "
          f"{ours.metrics.get('macro_f1', 0.0):.4f}")

    from dataclasses import replace

    from services.core import precision

    support = precision.cpu_bfloat16()
    if args.emulated and not support.supported:
        os.environ[precision.CPU_BF16_ENV] = "1"
    if support.supported or args.emulated:
        bf16 = our_run(data, replace(hp, precision="bfloat16"))
        speedup = bf16.samples_per_second / ours_rate
        delta = bf16.metrics.get("macro_f1", 0.0) - ours.metrics.get("macro_f1", 0.0)
        native = "" if support.supported else " (emulated)"
        print(f"ours, bfloat16 mixed precision{native}:{' ' * (19 - len(native))}{bf16.samples_per_second:7.1f} samples/s "
              f"({bf16.train_samples} samples in {bf16.train_seconds:.1f} s), validation macro-F1 "
              f"{bf16.metrics.get('macro_f1', 0.0):.4f}")
        bf16_figures = f"bf16_speedup={speedup:.2f} bf16_metric_delta={delta:+.4f}"
    else:
        print(f"bfloat16 mixed precision: not run ({support.reason})")
        bf16_figures = "bf16_speedup=n/a bf16_metric_delta=n/a"
    print(f"machine load average after: {os.getloadavg()[0]:.2f}")
    print(f"vs_trainer={ours_rate / plain_rate:.2f} {bf16_figures}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
