"""The Hugging Face Hub for users who are online: search, the course's recommended models, which files to fetch.

Network calls fail fast with a clear message when offline (``HF_HUB_OFFLINE`` set, no network,
connection refused): a short socket probe runs before any huggingface_hub call, whose own retries
would otherwise take half a minute. The endpoint is read at call time (``HF_ENDPOINT``).
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from urllib.parse import urlparse

from services.core.errors import WorkbenchError

DEFAULT_ENDPOINT = "https://huggingface.co"
PROBE_TIMEOUT_S = 4.0
API_TIMEOUT_S = 15.0

RECOMMENDED = [
    ("distilbert-base-uncased-finetuned-sst-2-english", "text-classification", "Sentiment (positive/negative), small and fast"),
    ("dbmdz/bert-large-cased-finetuned-conll03-english", "token-classification", "Named entities (CoNLL-03), large"),
    ("dslim/bert-base-NER", "token-classification", "Named entities (PER, ORG, LOC, MISC)"),
    ("facebook/bart-large-mnli", "zero-shot-classification", "Zero-shot classification with an NLI head"),
    ("bert-base-uncased", "fill-mask", "The classic BERT: tokenizer and fill-mask"),
    ("xlnet-base-cased", "text-generation", "XLNet: a SentencePiece tokenizer to compare with BERT's"),
    ("distilbert-base-cased-distilled-squad", "question-answering", "Question answering (SQuAD), small and fast"),
    ("deepset/roberta-base-squad2", "question-answering", "Question answering that can say 'no answer' (SQuAD 2.0)"),
    ("t5-small", "summarization", "T5: summarise, or translate English to French/German/Romanian (task prefixes)"),
    ("sshleifer/distilbart-cnn-12-6", "summarization", "News summaries (distilled BART, CNN/DailyMail)"),
    ("Helsinki-NLP/opus-mt-en-fr", "translation", "English → French (Marian; needs sentencepiece)"),
]

# Weight files of other frameworks (never needed with PyTorch) and optional export folders.
OTHER_FRAMEWORK_SUFFIXES = (".h5", ".msgpack", ".ot", ".onnx", ".onnx_data", ".tflite", ".mlmodel", ".gguf", ".ckpt")
OTHER_FRAMEWORK_DIRS = ("onnx/", "openvino/", "coreml/", "tf/", "flax/", "rust/", "tflite/", "gguf/")
SKIP_NAMES = {".gitattributes"}


class HubError(WorkbenchError):
    """A Hub request failed (not found, server error, bad answer)."""


class HubOfflineError(HubError):
    """The Hub cannot be reached: offline mode, no network, refused or timed out."""


@dataclass
class HubModel:
    repo_id: str
    downloads: int = 0
    likes: int = 0
    task: str = ""
    last_modified: str = ""
    note: str = ""


def hub_endpoint() -> str:
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def offline_mode() -> bool:
    value = os.environ.get("HF_HUB_OFFLINE") or os.environ.get("TRANSFORMERS_OFFLINE") or ""
    return value.strip().upper() in ("1", "ON", "YES", "TRUE")


def check_online(endpoint: str | None = None, timeout: float = PROBE_TIMEOUT_S) -> None:
    """Raise :class:`HubOfflineError` quickly unless the Hub's host accepts a connection."""
    endpoint = endpoint or hub_endpoint()
    if offline_mode():
        raise HubOfflineError("Offline mode is on (HF_HUB_OFFLINE is set), so the Hub is not contacted.",
                              hint="Unset HF_HUB_OFFLINE to search or download; models on disk still work.")
    parsed = urlparse(endpoint)
    host = parsed.hostname or ""
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except socket.gaierror:
        raise HubOfflineError(f"Cannot reach the Hub at {endpoint}: no network (the name {host} does not resolve).",
                              hint="Check your internet connection; models already on disk still work.") from None
    except TimeoutError:
        raise HubOfflineError(f"Cannot reach the Hub at {endpoint}: no answer within {timeout:.0f} s.",
                              hint="Check your internet connection or proxy; models already on disk still work.") from None
    except OSError as error:
        raise HubOfflineError(f"Cannot reach the Hub at {endpoint}: {error.strerror or error}.",
                              hint="Check your internet connection; models already on disk still work.") from None


def hub_error(error: Exception, what: str) -> HubError:
    """A user-facing error for an exception raised by huggingface_hub (matched by type, not text)."""
    from huggingface_hub.errors import (EntryNotFoundError, HfHubHTTPError, OfflineModeIsEnabled,
                                        RepositoryNotFoundError, RevisionNotFoundError)

    if isinstance(error, OfflineModeIsEnabled):
        return HubOfflineError("Offline mode is on (HF_HUB_OFFLINE), so the Hub is not contacted.")
    if isinstance(error, RepositoryNotFoundError):
        return HubError(f"{what}: no such model on the Hub (or it is private or gated).",
                        hint="Check the repository id, e.g. 'dslim/bert-base-NER'.")
    if isinstance(error, RevisionNotFoundError):
        return HubError(f"{what}: that revision (branch, tag or commit) does not exist.")
    if isinstance(error, EntryNotFoundError):
        return HubError(f"{what}: a file is missing on the Hub.")
    if isinstance(error, HfHubHTTPError):
        status = getattr(getattr(error, "response", None), "status_code", "?")
        return HubError(f"{what}: the Hub answered with HTTP {status}.")
    try:
        import httpx2 as http_client  # huggingface_hub 2.x
    except ImportError:  # pragma: no cover - huggingface_hub 1.x uses httpx
        import httpx as http_client

    if isinstance(error, (http_client.ConnectError, http_client.TimeoutException, http_client.NetworkError)):
        return HubOfflineError(f"{what}: the connection to the Hub failed ({type(error).__name__}).",
                               hint="Check your internet connection; downloads resume where they stopped.")
    return HubError(f"{what}: {type(error).__name__}: {error}")


def _api():
    from huggingface_hub import HfApi

    return HfApi(endpoint=hub_endpoint())


def search_models(text: str = "", task: str | None = None, limit: int = 30) -> list[HubModel]:
    """Models whose id matches ``text`` (and with pipeline ``task``), most downloaded first."""
    check_online()
    try:
        found = _api().list_models(search=text or None, pipeline_tag=task or None, sort="downloads", limit=limit)
        results = [HubModel(repo_id=m.id, downloads=int(m.downloads or 0), likes=int(m.likes or 0),
                            task=m.pipeline_tag or "", last_modified=str(m.last_modified or "")[:10]) for m in found]
    except Exception as error:  # noqa: BLE001 - converted to one readable message by type
        raise hub_error(error, "Hub search failed") from error
    results.sort(key=lambda m: m.downloads, reverse=True)
    return results


def recommended_models() -> list[HubModel]:
    return [HubModel(repo_id=repo, task=task, note=note) for repo, task, note in RECOMMENDED]


def choose_files(names: list[str]) -> tuple[list[str], list[str]]:
    """(files to download, files skipped): PyTorch weights only, safetensors preferred over pickle."""
    has_safetensors = any(n.endswith(".safetensors") or n == "model.safetensors.index.json" for n in names)
    keep, skipped = [], []
    for name in names:
        lower = name.lower()
        base = lower.rsplit("/", 1)[-1]
        if base in SKIP_NAMES or lower.startswith(OTHER_FRAMEWORK_DIRS) or lower.endswith(OTHER_FRAMEWORK_SUFFIXES):
            skipped.append(name)
        elif has_safetensors and (base.endswith(".bin") and ("pytorch_model" in base or base.startswith("model"))
                                  or base == "pytorch_model.bin.index.json"):
            skipped.append(name)
        elif base.startswith(("tf_model", "flax_model", "rust_model")):
            skipped.append(name)
        else:
            keep.append(name)
    return keep, skipped


def default_model_name(repo_id: str) -> str:
    """The library name a download gets: the repo's name without its owner."""
    return repo_id.rstrip("/").rsplit("/", 1)[-1]
