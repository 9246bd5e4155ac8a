"""Custom special tokens (e.g. ``<source_lang>``): add them to a copy of a tokenizer, show that they
become single tokens, and save tokenizer + model with the embedding matrix resized to match.
"""

from __future__ import annotations

import copy
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from services.core.cancel import NEVER_CANCELLED, CancelToken, Progress, no_progress
from services.core.errors import InputError, ModelError
from services.tokenizer.inspect import TOKENIZER_LOCK, TokenizerHandle, load_tokenizer


@dataclass
class CustomTokens:
    tokenizer: object  # a copy of the original tokenizer with the tokens added
    added: list[str]  # tokens that were new
    existing: list[str]  # tokens the tokenizer already had
    size_before: int  # len(tokenizer) before
    size_after: int
    sample: str
    tokens_before: list[str]  # the sample tokenized before adding
    tokens_after: list[str]
    ids_after: list[int]

    @property
    def explanation(self) -> str:
        if not self.added:
            return "Nothing new: the tokenizer already has these tokens."
        return (f"{len(self.added)} token(s) added: the vocabulary grows from {self.size_before:,} to "
                f"{self.size_after:,} ids. The model's embedding matrix has one row per id, so it must grow too "
                f"(model.resize_token_embeddings({self.size_after})); the new rows start random and learn their "
                "meaning during fine-tuning.")


@dataclass
class SavedCustomTokens:
    path: Path
    size_before: int
    size_after: int
    embedding_rows_before: int | None  # None when only a tokenizer was saved
    embedding_rows_after: int | None
    model_saved: bool


def parse_tokens(text: str) -> list[str]:
    """Tokens separated by commas, spaces or new lines; each must be a non-empty string without spaces."""
    tokens = [piece for chunk in text.replace(",", " ").split() for piece in [chunk.strip()] if piece]
    if not tokens:
        raise InputError("No tokens to add.", hint="Type tokens such as <source_lang>, <target_lang>.")
    seen, unique = set(), []
    for token in tokens:
        if token not in seen:
            seen.add(token)
            unique.append(token)
    return unique


def add_custom_tokens(handle: TokenizerHandle, tokens: list[str], sample: str = "") -> CustomTokens:
    """Add ``tokens`` as special tokens to a copy of ``handle``'s tokenizer (the original is untouched)."""
    if not tokens:
        raise InputError("No tokens to add.", hint="Type tokens such as <source_lang>, <target_lang>.")
    for token in tokens:
        if not token or any(c.isspace() for c in token):
            raise InputError(f"'{token}' is not a valid token: it is empty or contains spaces.")
    sample = sample or " ".join(tokens)
    with TOKENIZER_LOCK:
        tokenizer = copy.deepcopy(handle.tokenizer)
        size_before = len(tokenizer)
        tokens_before = tokenizer.tokenize(sample)
        vocab = tokenizer.get_vocab()
        existing = [token for token in tokens if token in vocab]
        added = [token for token in tokens if token not in vocab]
        if added:
            tokenizer.add_tokens(added, special_tokens=True)
        tokens_after = tokenizer.tokenize(sample)
        ids_after = tokenizer.convert_tokens_to_ids(tokens_after)
        size_after = len(tokenizer)
    return CustomTokens(tokenizer, added, existing, size_before, size_after, sample, tokens_before, tokens_after,
                        list(ids_after))


def save_with_custom_tokens(spec: str | os.PathLike, tokens: list[str], *, folder: str | os.PathLike | None = None,
                            library_name: str | None = None, library_root: str | os.PathLike | None = None,
                            overwrite: bool = False, progress: Progress = no_progress,
                            cancel: CancelToken = NEVER_CANCELLED) -> SavedCustomTokens:
    """Add ``tokens``, resize the model's embeddings to the new vocabulary and save both.

    Give either ``folder`` (any folder; it must be empty or absent unless ``overwrite``) or
    ``library_name`` (saved atomically into the model library). A tokenizer-only folder is saved as
    a tokenizer alone (there is no model to resize); the library only takes models.
    """
    if (folder is None) == (library_name is None):
        raise InputError("Choose where to save: a folder or a library name.")
    progress(0, 4, "Loading tokenizer")
    handle = load_tokenizer(spec, use_cache=False)
    custom = add_custom_tokens(handle, tokens)
    cancel.check()
    model, rows_before, rows_after = None, None, None
    if handle.has_model:
        progress(1, 4, "Loading model")
        model = _load_base_model(handle.path)
        cancel.check()
        rows_before = int(model.get_input_embeddings().weight.shape[0])
        progress(2, 4, f"Resizing embeddings to {custom.size_after:,} rows")
        model.resize_token_embeddings(custom.size_after)
        rows_after = int(model.get_input_embeddings().weight.shape[0])
    elif library_name is not None:
        raise InputError(f"'{handle.name}' is a tokenizer without a model; the library only holds models.",
                         hint="Save it to a folder instead.")
    cancel.check()
    progress(3, 4, "Saving")
    if library_name is not None:
        from services.library.folder import save_model_atomic

        path = save_model_atomic(model, custom.tokenizer, library_name, root=library_root, overwrite=overwrite)
    else:
        path = _save_to_folder(Path(folder).expanduser(), model, custom.tokenizer, overwrite)
    progress(4, 4, "Saved")
    return SavedCustomTokens(path, custom.size_before, custom.size_after, rows_before, rows_after, model is not None)


def _load_base_model(folder: Path):
    """Load the model with the class its config names (keeps its head), else AutoModel."""
    import transformers

    from services.core.model_info import inspect_model

    info = inspect_model(folder)
    if info.remote_code:
        raise ModelError(f"'{info.name}' needs trust_remote_code; refused.")
    classes = [getattr(transformers, name, None) for name in info.architectures]
    model_class = next((cls for cls in classes if cls is not None), transformers.AutoModel)
    try:
        return model_class.from_pretrained(str(folder))
    except Exception as error:
        raise ModelError(f"The model in '{info.name}' could not be loaded: {error}") from error


def _save_to_folder(target: Path, model, tokenizer, overwrite: bool) -> Path:
    if target.exists() and not target.is_dir():
        raise InputError(f"'{target}' is a file, not a folder.")
    if target.exists() and any(target.iterdir()) and not overwrite:
        raise InputError(f"'{target}' is not empty.", hint="Choose an empty or new folder.")
    staging = target.parent / f".saving-{target.name}-{uuid.uuid4().hex[:8]}"
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        staging.mkdir()
        if model is not None:
            model.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    except OSError as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise InputError(f"Could not save to '{target}': {error.strerror or error}.",
                         hint="Check free disk space and permissions.") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return target
