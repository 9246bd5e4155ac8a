"""The batch engine: length-sorted buckets, dynamic padding, ``torch.inference_mode()``.

Records arrive as a stream. The engine takes a bounded *window* of them (so memory stays bounded
whatever the file size), tokenizes the window once, sorts the resulting sequences by length and
cuts them into batches under a token budget, so each batch is padded only to its own longest
sequence. Texts longer than the model's limit are never cut silently: the result says
``"truncated": True``, or, with ``chunking``, the text is split into overlapping chunks (``stride``
tokens of overlap) whose class scores are averaged and whose entities are mapped back onto the
original text. Results are handed to ``emit`` after every batch, for the records it completed.

This is the one inference path for text-classification, token-classification, zero-shot (NLI and
embedding) and sentence embeddings: Analyse runs files through it, and ``services.run.predict`` (the
Run panel, ``main.py predict``) runs typed texts through it as a batch of one (or N). Scores come
from the task table (``services.core.tasks``), results from ``services.core.heads``. Fill-mask and
text-generation are not batched here; they go through ``services.run.predict``'s own runners.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable, Iterator

import numpy as np

from services.core import heads, tasks
from services.core.readers import Record
from services.core.cancel import NEVER_CANCELLED, CancelToken
from services.core.errors import InputError
from services.core.model_info import pooling_of
from services.core.models import embedding_limit
from services.core.threads import ThreadChoice, choose_threads, own_load, usable_cores

OWN_TASKS = ("text-classification", "token-classification", "zero-shot-classification", "sentence-similarity")
Emit = Callable[[list[tuple[Record, dict]]], None]


@dataclass
class EngineOptions:
    chunking: bool = False  # split long texts into overlapping chunks instead of truncating them
    stride: int = 32  # tokens of overlap between chunks
    batch_size: int = 0  # most sequences in a batch (0: pick for the device)
    max_tokens: int = 0  # most padded tokens in a batch (0: pick for the device)
    window: int = 1024  # records sorted together (bounds memory)
    window_chars: int = 4_000_000
    labels: list[str] = field(default_factory=list)  # zero-shot candidate labels
    template: str = ""  # zero-shot hypothesis template ("" = the pipelines' default)
    multi_label: bool = False
    aggregation: str = tasks.DEFAULT_AGGREGATION  # NER: how sub-token predictions become entities
    threads: int = 0  # torch CPU threads (0: the idle cores this process may use, see cpu_threads; -1: leave as is)
    embedding_decimals: int | None = 6  # embeddings rounded for the results file (None: full precision)
    # options of the tasks services.run runs (question answering: question, top_k...; summarisation and
    # translation: languages, beams, max_new_tokens...); passed to services.run.predict as they are
    task_options: dict = field(default_factory=dict)

    def result_settings(self) -> dict:
        """The settings that change results (part of the run key); batch sizes and threads do not."""
        settings = {"chunking": self.chunking, "stride": self.stride if self.chunking else None,
                    "labels": list(self.labels), "template": self.template, "multi_label": self.multi_label,
                    "aggregation": self.aggregation}
        if self.task_options:  # only when set, so the run keys of other tasks' results stay as they were
            settings["task_options"] = dict(sorted(self.task_options.items()))
        return settings


@dataclass
class _Seq:
    owner: int  # position of the record in the window
    part: int  # chunk number, or label number for zero-shot NLI pairs
    ids: list
    type_ids: list | None
    offsets: list | None
    special: list | None
    words: list | None = None  # the tokenizer's word index per token (None: special token)
    cut: bool = False  # a slow tokenizer cut this text at the model's limit


def cpu_threads() -> int:
    """Torch CPU threads: the usable cores that other processes leave free, at least one (this
    process's own recent work does not count; see :mod:`services.core.threads`)."""
    return choose_threads().threads


@dataclass(frozen=True)
class DevicePlan:
    """How the engine feeds a device. The CPU: batches of 32 under 4,096 tokens, results read at once.
    A GPU: larger batches and token budgets (twice the tokens at 16-bit precision), page-locked host
    tensors copied without blocking, and one batch in flight: the next batch is queued on the device
    before the host waits for the previous one's results, so there is no host sync per batch."""

    gpu: bool
    batch_size: int
    max_tokens: int
    pin_memory: bool  # page-locked host tensors: asynchronous host-to-device copies (CUDA only)
    in_flight: int  # batches queued on the device before the host reads results (0: read each at once)

    @classmethod
    def for_device(cls, device: str, precision: str = "float32") -> "DevicePlan":
        device = str(device)
        if device.startswith("cpu"):
            return cls(False, 32, 4096, False, 0)
        half = precision in ("float16", "bfloat16")
        return cls(True, 256, 131072 if half else 65536, device.startswith("cuda"), 1)


class _Pending:
    """A launched batch whose results may still be on their way from the device."""

    def __init__(self, parts: list[tuple[list, object, object, np.ndarray, list[int]]]):
        self.parts = parts  # (batch, host tensor, CUDA event or None, mask, starts), in batch order

    @property
    def batch(self) -> list:
        return [seq for part in self.parts for seq in part[0]]


def windows(records: Iterable[Record], size: int, max_chars: int) -> Iterator[list[Record]]:
    window: list[Record] = []
    chars = 0
    for record in records:
        window.append(record)
        chars += len(record.text)
        if len(window) >= size or chars >= max_chars:
            yield window
            window, chars = [], 0
    if window:
        yield window


def _word_spans(seqs: list[_Seq], owners: int, chunking: bool) -> list[dict[int, tuple[int, int]]]:
    """Per text, each word's character span over all its chunks' tokens. Without chunking only the first
    chunk is used, so of the rest only the tokens that finish the word the cut went through are read."""
    spans: list[dict[int, tuple[int, int]]] = [dict() for _ in range(owners)]
    for seq in sorted(seqs, key=lambda s: s.part):
        own = spans[seq.owner]
        for word, (start, end), special in zip(seq.words, seq.offsets, seq.special):
            if word is None or special or end <= start:
                continue
            old = own.get(word)
            if old is None and seq.part > 0 and not chunking:
                break  # past the word that the cut split
            own[word] = (start, end) if old is None else (min(old[0], start), max(old[1], end))
    return spans


class Engine:
    def __init__(self, loaded, options: EngineOptions | None = None):
        import torch

        self.loaded = loaded
        self.options = options or EngineOptions()
        self.task = loaded.task
        self.tokenizer = loaded.tokenizer
        self.model = loaded.model
        self.device = loaded.device
        config = self.model.config
        self.id2label = {int(k): str(v) for k, v in (getattr(config, "id2label", None) or {}).items()}
        self.own = self.task in OWN_TASKS
        self.fast = bool(getattr(self.tokenizer, "is_fast", False))
        if self.task == "token-classification":
            self.aggregation = tasks.aggregation(self.options.aggregation)
            if not self.fast:
                raise InputError("Named-entity recognition needs a fast tokenizer (tokenizer.json): a slow one "
                                 "cannot map tokens back onto the text or tell where words start.",
                                 hint="Save the model's tokenizer as a fast one (tokenizer.json).")
        self.plan = DevicePlan.for_device(self.device, getattr(loaded, "dtype", "float32"))
        on_gpu = self.plan.gpu
        self.batch_size = self.options.batch_size or self.plan.batch_size
        self.max_tokens = self.options.max_tokens or self.plan.max_tokens
        self.threads = 0
        self.thread_choice: ThreadChoice | None = None  # why this many threads (Jobs dock, manifest)
        if not on_gpu and self.options.threads >= 0:
            if self.options.threads:
                self.thread_choice = ThreadChoice(self.options.threads, usable_cores(), None, 0.0, None, 0.0)
            else:
                self.thread_choice = choose_threads()
            self.threads = self.thread_choice.threads
            torch.set_num_threads(self.threads)
        self.pad_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        self.left_pad = getattr(self.tokenizer, "padding_side", "right") == "left"
        self.wants_type_ids = "token_type_ids" in getattr(self.tokenizer, "model_input_names", ())
        self.max_length = loaded.max_length
        self.zero_shot_method = None
        if self.task == "zero-shot-classification":
            self._prepare_zero_shot()
        elif self.task == "sentence-similarity":
            self.pool_mode, _ = pooling_of(loaded.info.path)
            self.max_length = embedding_limit(loaded)
        if self.task == "text-classification":
            self.score_function = tasks.score_function(config)
        inner = self.max_length - self.tokenizer.num_special_tokens_to_add(pair=False)
        if self.options.chunking and not 0 <= self.options.stride < max(1, inner):
            raise InputError(f"The chunk overlap (stride {self.options.stride}) must be smaller than the model's "
                             f"{inner} text tokens per chunk.", hint="Choose a smaller stride.")

    # -- zero-shot set-up ------------------------------------------------------------------
    def _prepare_zero_shot(self) -> None:
        self.labels = tasks.candidate_labels(self.options.labels)
        self.template = tasks.hypothesis_template(self.options.template)
        self.hypotheses = [self.template.format(label) for label in self.labels]
        if self.loaded.info.is_nli:
            self.zero_shot_method = "nli"
            self.entail_id, self.contra_id = tasks.nli_label_ids(self.id2label)
        else:
            self.zero_shot_method = "embedding"
            self.pool_mode, _ = pooling_of(self.loaded.info.path)
            self.max_length = embedding_limit(self.loaded)
            self.label_vectors = None  # computed on the first window

    # -- public API --------------------------------------------------------------------------
    def run(self, records: Iterable[Record], emit: Emit, cancel: CancelToken = NEVER_CANCELLED) -> None:
        """Analyse every record; ``emit`` receives ``(record, result)`` pairs after each batch."""
        for window in windows(records, self.options.window, self.options.window_chars):
            cancel.check()
            empties = [(r, {"truncated": False}) for r in window if not r.text.strip()]
            if empties:
                emit(empties)
            work = [r for r in window if r.text.strip()]
            if not work:
                continue
            if self.own:
                self._run_window(work, emit, cancel)
            else:
                self._run_other(work, emit, cancel)
            own_load.sample()  # keeps the estimate of our own load current (see services.core.threads)

    def predict_texts(self, texts: list[str], cancel: CancelToken = NEVER_CANCELLED,
                      progress: Callable[[int], None] | None = None) -> list[dict]:
        """Results for plain texts, in input order (typed texts: a batch of one, or N); ``progress``
        receives the number of texts done after each batch."""
        records = [Record(f"#{i}", "", i, i + 1, text) for i, text in enumerate(texts)]
        out: list[dict | None] = [None] * len(texts)
        done = 0

        def collect(pairs):
            nonlocal done
            for record, result in pairs:
                out[record.index] = result
            done += len(pairs)
            if progress is not None:
                progress(done)

        self.run(records, collect, cancel)
        return out  # type: ignore[return-value]

    # -- fill-mask and text generation: services.run's own runners --------------------------
    def _run_other(self, work: list[Record], emit: Emit, cancel: CancelToken) -> None:
        from services.run import predict

        step = 8
        for start in range(0, len(work), step):
            cancel.check()
            batch = work[start:start + step]
            options = {"chunking": self.options.chunking, **self.options.task_options}
            results = predict(self.loaded, [r.text for r in batch], options, cancel=cancel)
            emit(list(zip(batch, results)))

    # -- own batching --------------------------------------------------------------------------
    def _encode(self, texts: list[str], pairs: list[str] | None = None) -> list[_Seq]:
        if not self.fast:
            return self._encode_slow(texts, pairs)
        need_offsets = self.task == "token-classification"
        chunking = self.options.chunking and pairs is None
        encoded = self.tokenizer(
            texts, pairs, truncation="only_first" if pairs is not None else True, max_length=self.max_length,
            stride=self.options.stride if chunking else 0, return_overflowing_tokens=pairs is None,
            return_offsets_mapping=need_offsets, return_special_tokens_mask=need_offsets,
            return_token_type_ids=self.wants_type_ids, padding=False, verbose=False)
        owners = encoded.get("overflow_to_sample_mapping") or list(range(len(texts)))
        seqs: list[_Seq] = []
        parts: dict[int, int] = {}
        for row, owner in enumerate(owners):
            part = parts.get(owner, 0)
            parts[owner] = part + 1
            seqs.append(_Seq(owner, part, encoded["input_ids"][row],
                             encoded["token_type_ids"][row] if self.wants_type_ids else None,
                             encoded["offset_mapping"][row] if need_offsets else None,
                             encoded["special_tokens_mask"][row] if need_offsets else None,
                             encoded.word_ids(row) if need_offsets else None))
        return seqs

    def _encode_slow(self, texts: list[str], pairs: list[str] | None) -> list[_Seq]:
        """A slow (Python) tokenizer: one sequence per text, cut at the model's limit (no chunks)."""
        encoded = self.tokenizer(texts, pairs, truncation="only_first" if pairs is not None else True,
                                 max_length=self.max_length, return_token_type_ids=self.wants_type_ids,
                                 padding=False, verbose=False)
        full = self.tokenizer(texts, pairs, truncation=False, padding=False, verbose=False)["input_ids"]
        return [_Seq(owner, 0, ids, encoded["token_type_ids"][owner] if self.wants_type_ids else None, None, None,
                     cut=len(full[owner]) > len(ids)) for owner, ids in enumerate(encoded["input_ids"])]

    def _batches(self, seqs: list[_Seq]) -> Iterator[list[_Seq]]:
        """Longest first; a batch closes when it would exceed the sequence cap or the token budget."""
        order = sorted(range(len(seqs)), key=lambda i: len(seqs[i].ids), reverse=True)
        batch: list[_Seq] = []
        width = 0
        for i in order:
            seq = seqs[i]
            new_width = max(width, len(seq.ids))
            if batch and (len(batch) >= self.batch_size or new_width * (len(batch) + 1) > self.max_tokens):
                yield batch
                batch, new_width = [], len(seq.ids)
            batch.append(seq)
            width = new_width
        if batch:
            yield batch

    def _tensors(self, batch: list[_Seq]):
        import torch

        width = max(len(s.ids) for s in batch)
        ids = np.full((len(batch), width), self.pad_id, dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.int64)
        types = np.zeros((len(batch), width), dtype=np.int64) if self.wants_type_ids else None
        starts = []
        for row, seq in enumerate(batch):
            n = len(seq.ids)
            start = width - n if self.left_pad else 0
            starts.append(start)
            ids[row, start:start + n] = seq.ids
            mask[row, start:start + n] = 1
            if types is not None and seq.type_ids is not None:
                types[row, start:start + n] = seq.type_ids
        inputs = {"input_ids": self._to_device(ids), "attention_mask": self._to_device(mask)}
        if types is not None:
            inputs["token_type_ids"] = self._to_device(types)
        return inputs, mask, starts

    def _to_device(self, array: np.ndarray):
        import torch

        tensor = torch.from_numpy(array)
        if self.plan.pin_memory:
            return tensor.pin_memory().to(self.device, non_blocking=True)
        return tensor.to(self.device)

    def _forward(self, batch: list[_Seq]):
        """Run one batch and return its outputs (:meth:`_launch` then :meth:`_collect`)."""
        return self._collect(self._launch(batch))

    def _launch(self, batch: list[_Seq]) -> _Pending:
        """Start one batch on the device; on an out-of-memory error split it in halves and try again.

        On a GPU the outputs are copied to page-locked host memory without blocking and a CUDA event
        marks when they are there: the host does not wait until :meth:`_collect`."""
        import torch

        from services.core.devices import is_out_of_memory, out_of_memory_error

        inputs, mask, starts = self._tensors(batch)
        try:
            with torch.inference_mode():
                output = self.model(**inputs)
                if self.task in ("sentence-similarity",) or self.zero_shot_method == "embedding":
                    values = output.last_hidden_state.float()
                else:
                    values = output.logits.float()
                event = None
                if self.plan.pin_memory:
                    host = torch.empty(values.shape, dtype=values.dtype, pin_memory=True)
                    host.copy_(values, non_blocking=True)
                    event = torch.cuda.Event()
                    event.record()
                else:
                    host = values.cpu()
        except Exception as error:  # noqa: BLE001 - only OOM is handled here
            if not is_out_of_memory(error):
                raise
            if len(batch) == 1:
                raise out_of_memory_error(self.device, "analyse the records") from error
            if self.plan.gpu and torch.cuda.is_available():
                torch.cuda.empty_cache()
            half = len(batch) // 2
            self.max_tokens = max(512, self.max_tokens // 2)
            first, second = self._launch(batch[:half]), self._launch(batch[half:])
            return _Pending(first.parts + second.parts)
        return _Pending([(batch, host, event, mask, starts)])

    def _collect(self, pending: _Pending) -> list:
        """Wait for a launched batch's results (a GPU: its event) and cut them per sequence."""
        outputs = []
        for batch, host, event, mask, starts in pending.parts:
            if event is not None:
                event.synchronize()
            values = host.numpy()
            for row, seq in enumerate(batch):
                if values.ndim == 3:
                    n = len(seq.ids)
                    outputs.append((values[row, starts[row]:starts[row] + n], mask[row, starts[row]:starts[row] + n]))
                else:
                    outputs.append((values[row], None))
        return outputs

    def _run_window(self, work: list[Record], emit: Emit, cancel: CancelToken) -> None:
        texts = [r.text for r in work]
        if self.zero_shot_method == "nli":
            seqs = self._encode([t for t in texts for _ in self.labels], [h for _ in texts for h in self.hypotheses])
            for number, seq in enumerate(seqs):
                seq.owner, seq.part = number // len(self.labels), number % len(self.labels)
            expected = [len(self.labels)] * len(work)
            truncated = self._pair_truncation(texts)
        else:
            if self.zero_shot_method == "embedding" and self.label_vectors is None:
                self.label_vectors = self._embed_plain(self.hypotheses, cancel)
            seqs = self._encode(texts)
            expected = [0] * len(work)
            truncated = [False] * len(work)
            for seq in seqs:
                expected[seq.owner] += 1
                truncated[seq.owner] = truncated[seq.owner] or seq.cut
            truncated = [cut or (count > 1 and not self.options.chunking) for cut, count in zip(truncated, expected)]
            if self.task == "token-classification":
                self._word_spans = _word_spans(seqs, len(work), self.options.chunking)  # whole words, also cut ones
            if not self.options.chunking:
                seqs = [s for s in seqs if s.part == 0]
                expected = [1] * len(work)
        pieces: list[dict[int, tuple]] = [dict() for _ in work]

        def deliver(pending: _Pending) -> None:
            done = []
            for seq, output in zip(pending.batch, self._collect(pending)):
                pieces[seq.owner][seq.part] = (seq, output)
                if len(pieces[seq.owner]) == expected[seq.owner]:
                    done.append(seq.owner)
            if done:
                emit([(work[i], self._finish(work[i], pieces[i], truncated[i])) for i in done])
                for i in done:
                    pieces[i] = {}

        in_flight: list[_Pending] = []  # launched, results not read yet (a GPU keeps one queued)
        for batch in self._batches(seqs):
            cancel.check()
            in_flight.append(self._launch(batch))
            while len(in_flight) > self.plan.in_flight:
                deliver(in_flight.pop(0))
        while in_flight:
            deliver(in_flight.pop(0))

    def _pair_truncation(self, texts: list[str]) -> list[bool]:
        lengths = self.tokenizer(texts, add_special_tokens=False, truncation=False, verbose=False)["input_ids"]
        hyp = max(len(h) for h in self.tokenizer(self.hypotheses, add_special_tokens=False)["input_ids"])
        budget = self.max_length - self.tokenizer.num_special_tokens_to_add(pair=True) - hyp
        return [len(ids) > budget for ids in lengths]

    def _embed_plain(self, texts: list[str], cancel: CancelToken) -> np.ndarray:
        seqs = self._encode(texts)
        seqs = [s for s in seqs if s.part == 0]
        vectors = np.zeros((len(texts), 0), dtype=np.float32)
        rows: dict[int, np.ndarray] = {}
        for batch in self._batches(seqs):
            cancel.check()
            for seq, (hidden, mask) in zip(batch, self._forward(batch)):
                rows[seq.owner] = heads.normalise(heads.pool(hidden[None], mask[None], self.pool_mode))[0]
        vectors = np.stack([rows[i] for i in range(len(texts))])
        return vectors

    def _finish(self, record: Record, parts: dict[int, tuple], truncated: bool) -> dict:
        ordered = [parts[k] for k in sorted(parts)]
        if self.task == "text-classification":
            probs = [tasks.to_scores(output[0], self.score_function) for _seq, output in ordered]
            weights = [len(seq.ids) for seq, _o in ordered]
            return heads.classification_result(probs, weights, self.id2label, truncated, self.score_function)
        if self.task == "token-classification":
            chunks = []
            for seq, (logits, _mask) in ordered:
                real = ~np.asarray(seq.special, dtype=bool)
                words = np.asarray([-1 if w is None else w for w in seq.words], dtype=np.int64)
                chunks.append((np.asarray(seq.offsets, dtype=np.int64), tasks.to_scores(logits), real, words))
            tokens = heads.merge_chunk_tokens(chunks)
            result = {"entities": heads.entities(record.text, tokens, self.id2label, self.aggregation,
                                                 self._word_spans[ordered[0][0].owner]),
                      "truncated": truncated}
            if len(ordered) > 1:
                result["chunks"] = len(ordered)
            return result
        if self.zero_shot_method == "nli":
            logits = np.stack([output[0] for _seq, output in ordered])  # [labels, classes]
            scores = tasks.nli_zero_shot_scores(logits, self.entail_id, self.contra_id, self.options.multi_label)
            return heads.zero_shot_result(scores, self.labels, "nli", self.options.multi_label, truncated)
        vectors = [heads.normalise(heads.pool(h[None], m[None], self.pool_mode))[0] for _s, (h, m) in ordered]
        weights = [len(seq.ids) for seq, _o in ordered]
        if self.task == "sentence-similarity":
            return heads.embedding_result(vectors, weights, truncated, self.options.embedding_decimals)
        vector = vectors[0] if len(vectors) == 1 else heads.normalise(
            (np.stack(vectors) * np.asarray(weights, dtype=np.float32)[:, None]).sum(axis=0))
        cosines = self.label_vectors @ vector
        scores = tasks.embedding_zero_shot_scores(cosines, self.options.multi_label)
        result = heads.zero_shot_result(scores, self.labels, "embedding", self.options.multi_label, truncated, cosines)
        if len(vectors) > 1:
            result["chunks"] = len(vectors)
        return result
