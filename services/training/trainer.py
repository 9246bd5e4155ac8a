"""One fine-tuning run with transformers' ``Trainer``: progress, cancel, early stopping, the best epoch kept.

``train_model(data, base_model, hyperparameters, device=, progress=, cancel=)`` returns a
:class:`~services.training.config.TrainResult`. Each progress event carries a
:class:`~services.training.config.TrainingSnapshot` (loss curve, per-epoch metrics, ETA); the last
one also carries the result, so a caller whose job was cancelled still receives the best epoch.

Speed: examples are tokenized without padding; ``DataCollatorWithPadding`` /
``DataCollatorForTokenClassification`` pad each batch only to its longest member and the sampler
groups examples of similar length (``train_sampling_strategy="group_by_length"``). Checkpoints are
not written to disk: the best epoch's weights are kept in memory and restored at the end.
"""

from __future__ import annotations

import datetime
import shutil
from dataclasses import replace
import tempfile
import time

from services.core.cancel import NEVER_CANCELLED, CancelToken, Progress, no_progress
from services.core.devices import check_device, is_out_of_memory, out_of_memory_error
from services.core.errors import Cancelled, DeviceError, ModelError
from services.core.model_info import BUILTIN, ModelInfo, inspect_model
from services.core.tasks import auto_class_for
from services.training import TEXT_CLASSIFICATION, TOKEN_CLASSIFICATION
from services.training.config import Hyperparameters, TrainingSnapshot, TrainResult
from services.training.data import PreparedData
from services.core.eta import remaining_seconds
from services.core.metrics import classification_metrics, confusion_matrix, entity_metrics, entity_spans, main_metric

MAX_WRONG = 500


def check_base_model(spec: str, task: str) -> ModelInfo:
    """The base model's folder description, or a clear :class:`ModelError` if it cannot be fine-tuned."""
    info = inspect_model(spec)
    if info.remote_code:
        raise ModelError(f"'{info.display_name}' needs trust_remote_code; fine-tuning it is refused.",
                         hint="Choose a model that uses a built-in transformers architecture.")
    if not info.weight_files:
        raise ModelError(f"'{info.display_name}' has no weights file to start from.")
    if not info.has_tokenizer:
        raise ModelError(f"'{info.display_name}' has no tokenizer.", hint="Save the tokenizer next to the model.")
    from transformers.models.auto import modeling_auto

    mapping = (modeling_auto.MODEL_FOR_SEQUENCE_CLASSIFICATION_MAPPING_NAMES if task == TEXT_CLASSIFICATION
               else modeling_auto.MODEL_FOR_TOKEN_CLASSIFICATION_MAPPING_NAMES)
    if info.model_type not in mapping:
        raise ModelError(f"'{info.display_name}' (model type '{info.model_type or '?'}') cannot be fine-tuned for "
                         f"{'token' if task == TOKEN_CLASSIFICATION else 'text'} classification.",
                         hint="Choose an encoder such as the built-in model (BERT family).")
    return info


def _is_oom(error: BaseException) -> bool:
    return is_out_of_memory(error) or "can't allocate memory" in str(error).lower()


def _oom_error(device: str, hp: Hyperparameters) -> DeviceError:
    error = out_of_memory_error(device, f"train (batch size {hp.batch_size}, maximum length {hp.max_length})")
    error.hint = (f"Try a smaller batch (e.g. {max(1, hp.batch_size // 2)}) or a shorter maximum length "
                  f"(e.g. {max(8, hp.max_length // 2)}), or train the head only.")
    return error


class _Run:
    """Plain-Python state of a run, updated by the Trainer callback and sent out as snapshots."""

    def __init__(self, progress: Progress, cancel: CancelToken, metric_name: str, epochs: int, patience: int):
        self.progress, self.cancel = progress, cancel
        self.metric_name, self.epochs, self.patience = metric_name, epochs, patience
        self.losses: list[tuple[int, float]] = []
        self.evals: list[dict] = []
        self.best_metric: float | None = None
        self.best_state: dict | None = None
        self.best_epoch: float | None = None
        self.bad_evals = 0
        self.cancelled = self.stopped_early = False
        self.step = self.total = 0
        self.epoch = 0.0
        self.started = time.monotonic()
        self.train_started: float | None = None

    def snapshot(self, phase: str, result: TrainResult | None = None) -> TrainingSnapshot:
        elapsed = time.monotonic() - self.started
        eta = None if self.train_started is None else \
            remaining_seconds(self.step, self.total, time.monotonic() - self.train_started)
        return TrainingSnapshot(phase, self.step, self.total, self.epoch, self.epochs, tuple(self.losses),
                                tuple(dict(e) for e in self.evals), self.metric_name, elapsed, eta, result)

    def report(self, phase: str, message: str) -> None:
        total = self.total or None
        done = min(self.step, self.total - 1) if phase != "finished" and self.total else self.step
        self.progress(done, total, message, self.snapshot(phase))

    def step_message(self) -> str:
        loss = f" · loss {self.losses[-1][1]:.3f}" if self.losses else ""
        return f"Epoch {min(int(self.epoch) + 1, self.epochs)}/{self.epochs} · step {self.step}/{self.total}{loss}"

    def check_cancel(self) -> bool:
        if not self.cancelled:
            try:
                self.cancel.check()
            except Cancelled:
                self.cancelled = True
        return self.cancelled

    def record_eval(self, metrics: dict, model, step: int, epoch: float) -> None:
        entry = {"epoch": round(epoch, 2), "step": step}
        for key, value in metrics.items():
            if key.startswith("eval_") and isinstance(value, (int, float)) and not key.endswith(
                    ("_runtime", "_per_second")):
                entry[key[5:]] = float(value)
        self.evals.append(entry)
        value = entry.get(self.metric_name, 0.0)
        if self.best_metric is None or value > self.best_metric:
            self.best_metric, self.best_epoch, self.bad_evals = value, entry["epoch"], 0
            self.best_state = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}
        else:
            self.bad_evals += 1


def _callback(run: _Run):
    from transformers import TrainerCallback

    class WorkbenchCallback(TrainerCallback):
        """Progress after every step, cancel between steps, the best epoch kept, early stopping."""

        def on_train_begin(self, args, state, control, **kwargs):
            run.total = state.max_steps
            run.train_started = time.monotonic()

        def on_step_end(self, args, state, control, **kwargs):
            run.step, run.epoch = state.global_step, float(state.epoch or 0)
            run.report("training", run.step_message())
            if run.check_cancel():
                control.should_training_stop = True
                control.should_evaluate = control.should_save = False

        def on_epoch_end(self, args, state, control, **kwargs):
            if run.cancelled:
                control.should_evaluate = False  # stop now; the best epoch so far is kept
            elif control.should_evaluate:
                run.report("evaluating", f"Evaluating epoch {round(float(state.epoch or 0))}")

        def on_log(self, args, state, control, logs=None, **kwargs):
            if logs and "loss" in logs:
                run.losses.append((state.global_step, float(logs["loss"])))
                run.report("training", run.step_message())  # the curve gets the new point at once

        def on_evaluate(self, args, state, control, metrics=None, model=None, **kwargs):
            run.record_eval(metrics or {}, model, state.global_step, float(state.epoch or 0))
            if run.patience and run.bad_evals >= run.patience and state.global_step < state.max_steps:
                run.stopped_early = True
                control.should_training_stop = True

    return WorkbenchCallback()


def _compute_metrics(task: str, labels: list[str]):
    def compute(eval_prediction):
        predictions, label_ids = eval_prediction.predictions, eval_prediction.label_ids
        if task == TEXT_CLASSIFICATION:
            return classification_metrics(label_ids.tolist(), predictions.tolist())
        gold, predicted = [], []
        for pred_row, gold_row in zip(predictions, label_ids):
            mask = gold_row != -100
            gold.append([labels[i] for i in gold_row[mask]])
            predicted.append([labels[i] for i in pred_row[mask]])
        return entity_metrics(gold, predicted)

    return compute


def _argmax(logits, labels):
    return logits.argmax(-1)


def training_arguments(hp: Hyperparameters, device: str, output_dir: str, total_steps: int, **overrides):
    """Our TrainingArguments: no disk checkpoints, no tqdm/reporting, dynamic-length friendly; mixed
    precision (bf16/fp16) where ``hp.precision`` asks for it and the device supports it."""
    from transformers import TrainingArguments

    from services.core.precision import training_precision

    values = dict(
        output_dir=output_dir, num_train_epochs=hp.epochs, max_steps=hp.max_steps, learning_rate=hp.learning_rate,
        per_device_train_batch_size=hp.batch_size, per_device_eval_batch_size=max(hp.batch_size, 32),
        warmup_steps=hp.warmup_ratio, weight_decay=hp.weight_decay, seed=hp.seed,
        eval_strategy="epoch", save_strategy="no", logging_strategy="steps",
        logging_steps=max(1, total_steps // 200), logging_first_step=True, report_to="none", disable_tqdm=True,
        dataloader_num_workers=0, dataloader_pin_memory=device != "cpu", use_cpu=device == "cpu",
        train_sampling_strategy="group_by_length", **training_precision(hp.precision, device).arguments(),
    )
    values.update(overrides)
    return TrainingArguments(**values)


def _trainer_class():
    from transformers import Trainer

    class WorkbenchTrainer(Trainer):
        """Trainer that also measures how long evaluation took (to report pure training throughput)."""

        eval_seconds = 0.0

        def evaluate(self, *args, **kwargs):
            started = time.perf_counter()
            try:
                return super().evaluate(*args, **kwargs)
            finally:
                self.eval_seconds += time.perf_counter() - started

    return WorkbenchTrainer


def quiet(trainer) -> None:
    """Drop the Trainer's own console output (tqdm bars or printed log dicts): we report progress ourselves."""
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    trainer.remove_callback(PrinterCallback)
    trainer.remove_callback(ProgressCallback)


def load_for_training(info: ModelInfo, data: PreparedData, hp: Hyperparameters):
    import transformers

    transformers.set_seed(hp.seed)
    try:
        tokenizer = transformers.AutoTokenizer.from_pretrained(str(info.path))
        model = getattr(transformers, auto_class_for(data.task)).from_pretrained(
            str(info.path), num_labels=len(data.labels), id2label=data.id2label, label2id=data.label2id,
            ignore_mismatched_sizes=True)
    except (OSError, ValueError) as error:
        raise ModelError(f"'{info.display_name}' could not be loaded for fine-tuning: {error}") from error
    if tokenizer.pad_token is None and tokenizer.eos_token is not None:
        tokenizer.pad_token = tokenizer.eos_token
        model.config.pad_token_id = tokenizer.eos_token_id
    if hp.head_only:
        for name, parameter in model.base_model.named_parameters():
            parameter.requires_grad = "pooler" in name  # a random pooler must learn along with the head
    elif hp.freeze_embeddings:
        freeze_embeddings(model)
    return tokenizer, model


def freeze_embeddings(model) -> None:
    """Keep the input embeddings fixed: the base model's embeddings block where it has one (word, position
    and token-type embeddings and their layer norm, as in BERT), else the word embeddings alone."""
    block = getattr(model.base_model, "embeddings", None)
    module = block if hasattr(block, "parameters") else model.get_input_embeddings()
    for parameter in module.parameters():
        parameter.requires_grad = False


def encode_data(tokenizer, data: PreparedData, max_length: int):
    from services.training.encode import encode_texts, encode_words

    if data.task == TEXT_CLASSIFICATION:
        train = encode_texts(tokenizer, data.train.inputs, [data.encode(v) for v in data.train.targets], max_length)
        val = encode_texts(tokenizer, data.validation.inputs, [data.encode(v) for v in data.validation.targets], max_length)
        return train, val
    tag_ids = lambda ex: [[data.encode(t) for t in tags] for tags in ex.targets]  # noqa: E731
    train, _ = encode_words(tokenizer, data.train.inputs, tag_ids(data.train), max_length)
    val, _ = encode_words(tokenizer, data.validation.inputs, tag_ids(data.validation), max_length)
    return train, val


def collator_for(task: str, tokenizer):
    from transformers import DataCollatorForTokenClassification, DataCollatorWithPadding

    if task == TOKEN_CLASSIFICATION:
        return DataCollatorForTokenClassification(tokenizer)
    return DataCollatorWithPadding(tokenizer)


def samples_seen(steps: int, steps_per_epoch: int, batch_size: int, train_size: int) -> int:
    """Examples processed in ``steps`` optimizer steps (the last batch of an epoch may be short)."""
    full, rest = divmod(steps, steps_per_epoch)
    return full * train_size + min(rest * batch_size, train_size)


def _spans_text(tokens: list[str], tags: list[str]) -> str:
    return ", ".join(f"{' '.join(tokens[a:b + 1])} ({kind})" for kind, a, b in entity_spans(tags)) or "—"


def evaluate_kept_model(result_fields: dict, model, tokenizer, data: PreparedData, max_length: int, cancel) -> None:
    """Predict the validation data with the kept weights: metrics, confusion matrix, wrong examples."""
    from services.training.encode import predict_texts, predict_words

    names = data.label_names
    n = len(data.labels)
    if data.task == TEXT_CLASSIFICATION:
        predicted, probabilities = predict_texts(model, tokenizer, data.validation.inputs, max_length, cancel=cancel)
        gold = [data.encode(v) for v in data.validation.targets]
        metrics = classification_metrics(gold, predicted)
        confusion = confusion_matrix(gold, predicted, n)
        wrong = [{"text": text, "gold": names[g], "predicted": names[p], "confidence": probs[p]}
                 for text, g, p, probs in zip(data.validation.inputs, gold, predicted, probabilities) if g != p]
        wrong.sort(key=lambda w: -w["confidence"])
    else:
        predicted = predict_words(model, tokenizer, data.validation.inputs, max_length, outside_id=data.encode("O"),
                                  cancel=cancel)
        gold = [[data.encode(t) for t in tags] for tags in data.validation.targets]
        gold_tags = [[data.labels[i] for i in row] for row in gold]
        pred_tags = [[data.labels[i] for i in row] for row in predicted]
        metrics = entity_metrics(gold_tags, pred_tags)
        confusion = confusion_matrix([i for row in gold for i in row], [i for row in predicted for i in row], n)
        wrong = [{"text": " ".join(tokens), "gold": _spans_text(tokens, g), "predicted": _spans_text(tokens, p),
                  "confidence": None}
                 for tokens, g, p in zip(data.validation.inputs, gold_tags, pred_tags) if set(entity_spans(g)) != set(entity_spans(p))]
    result_fields.update(metrics=metrics, confusion=confusion, confusion_labels=list(names), wrong=wrong[:MAX_WRONG],
                         validation_predictions=predicted)


def quality_warnings(result: TrainResult) -> list[str]:
    """What says the kept model has not learned: a validation score near chance, or a class (entity
    type) that the model never predicts on the validation data although it occurs there."""
    warnings = []
    if result.task == TEXT_CLASSIFICATION:
        chance = 1.0 / max(2, len(result.labels))
        score = result.metrics.get("macro_f1", 0.0)
        if score <= chance + 0.05:
            warnings.append(f"Validation macro-F1 is {score:.2f}, about what guessing gives ({chance:.2f}): the model "
                            "has not learned. Try more examples, more epochs or a higher learning rate.")
        matrix = result.confusion or []
        never = [result.label_names[i] for i in range(len(matrix))
                 if sum(row[i] for row in matrix) == 0 and sum(matrix[i]) > 0]
        if never:
            warnings.append(f"The model never predicts {', '.join(repr(n) for n in never)} on the validation data.")
    else:
        score = result.metrics.get("entity_f1", 0.0)
        if score < 0.2:
            warnings.append(f"Validation entity F1 is {score:.2f}: the model finds almost no entities. Try more "
                            "epochs, a higher learning rate or more tagged sentences.")
        gold_types = {name[2:] for name in result.label_names if name != "O"}
        predicted = {kind for row in result.validation_predictions
                     for kind, _s, _e in entity_spans([result.label_names[i] for i in row])}
        missing = sorted(gold_types - predicted)
        if missing and result.validation_predictions:
            warnings.append(f"The model never predicts these entity types on the validation data: {', '.join(missing)}.")
    return warnings


def train_model(data: PreparedData, base_model: str = BUILTIN, hp: Hyperparameters | None = None, *,
                device: str = "cpu", progress: Progress = no_progress,
                cancel: CancelToken = NEVER_CANCELLED) -> TrainResult:
    """Fine-tune ``base_model`` on ``data``. Cancel keeps the best evaluated epoch (``result.cancelled``);
    cancelling before the first evaluation raises :class:`Cancelled` (there is nothing to keep)."""
    hp = hp or Hyperparameters.defaults_for(data.task)
    hp.check()
    info = check_base_model(base_model, data.task)
    check_device(device)
    notes: list[str] = []
    from services.core.precision import training_precision

    mixed = training_precision(hp.precision, device)
    if mixed.precision != mixed.requested:  # asked for mixed precision the device does not have
        notes.append(mixed.note)
    planned = hp.planned_epochs(len(data.train))
    if planned != hp.epochs:
        notes.append(f"{len(data.train)} training examples make few updates per epoch: planned {planned} epochs "
                     f"(at least {hp.min_steps} updates); early stopping ends sooner if validation stops improving.")
        hp = replace(hp, epochs=planned)
    run = _Run(progress, cancel, main_metric(data.task), hp.epochs, hp.patience)
    run.report("loading", f"Loading {info.display_name}")
    cancel.check()
    output_dir = tempfile.mkdtemp(prefix="workbench-train-")
    try:
        tokenizer, model = load_for_training(info, data, hp)
        hp, note = hp.for_model(sum(p.numel() for p in model.parameters()))
        notes += [note] if note else []
        cancel.check()
        run.report("tokenizing", "Tokenizing")
        from services.training.encode import effective_max_length

        max_length = effective_max_length(tokenizer, model, hp.max_length)
        train_items, val_items = encode_data(tokenizer, data, max_length)
        cancel.check()
        steps_per_epoch = -(-len(train_items) // hp.batch_size)
        total = hp.max_steps if hp.max_steps > 0 else steps_per_epoch * hp.epochs
        trainer = _trainer_class()(
            model=model, args=training_arguments(hp, device, output_dir, total), train_dataset=train_items,
            eval_dataset=val_items, data_collator=collator_for(data.task, tokenizer), processing_class=tokenizer,
            compute_metrics=_compute_metrics(data.task, data.labels), preprocess_logits_for_metrics=_argmax,
            callbacks=[_callback(run)])
        quiet(trainer)
        started = time.perf_counter()
        trainer.train()
        wall = time.perf_counter() - started
        if run.best_state is None:  # cancelled before the first evaluation: nothing worth keeping
            total = max(run.total, 1)  # done == total: delivered at once, so the curves show the last step
            run.progress(total, total, "Cancelled before the first evaluation", run.snapshot("cancelled"))
            raise Cancelled()
        model = trainer.model
        model.load_state_dict(run.best_state)
        run.report("finishing", "Evaluating the kept model")
        fields: dict = {}
        evaluate_kept_model(fields, model, tokenizer, data, max_length, NEVER_CANCELLED)
    except (Cancelled, DeviceError, ModelError):
        raise
    except Exception as error:
        if _is_oom(error):
            raise _oom_error(device, hp) from error
        raise
    finally:
        shutil.rmtree(output_dir, ignore_errors=True)
    import torch
    import transformers

    model.eval()
    result = TrainResult(
        task=data.task, base_model=str(base_model), base_model_name=info.display_name, model=model, tokenizer=tokenizer,
        labels=list(data.labels), label_names=list(data.label_names), hyperparameters=hp,
        data_file=data.train.path.name, data_sha256=data.train.sha256, label_counts=dict(data.counts),
        train_size=len(data.train), validation_size=len(data.validation), validation_source=data.validation_source,
        max_length=max_length, device=device, metric_name=run.metric_name, history=list(run.evals),
        losses=list(run.losses), best_epoch=run.best_epoch, epochs_run=run.epoch, steps=run.step,
        cancelled=run.cancelled, stopped_early=run.stopped_early, train_seconds=max(1e-9, wall - trainer.eval_seconds),
        eval_seconds=trainer.eval_seconds, wall_seconds=time.monotonic() - run.started, train_samples=samples_seen(run.step, steps_per_epoch, hp.batch_size, len(train_items)),
        versions={"transformers": transformers.__version__, "torch": torch.__version__},
        finished_at=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"), **fields)
    result.warnings = list(data.warnings) + notes + quality_warnings(result)
    run.step = max(run.step, 1)
    run.total = max(run.total, run.step)
    run.progress(run.total, run.total, "Cancelled: kept the best epoch" if run.cancelled else "Finished",
                 run.snapshot("finished", result))
    return result
