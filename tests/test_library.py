"""The library services: listing every model, saving atomically, folder operations, verify, bad input."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
from pathlib import Path

import pytest

from services.core.cancel import CancelToken
from services.core.errors import Cancelled, InputError, ModelError
from services.library.hf_cache import hf_cache_dir
from services.library.folder import find_model, library_dir, list_library_models, list_models, save_model_atomic
from services.library.ops import delete_model, duplicate_model, edit_labels, import_folder, rename_model
from services.library.scan import count_parameters_by_loading, find_model_folders
from services.library.verify import PROBE_FILE, verify_model
from services.library.model_card import model_card_html
from services.core.models import ModelHost, load_model


@pytest.fixture(scope="module")
def classifier(tiny_classifier):
    return load_model(str(tiny_classifier), "text-classification")


def make_cache_entry(cache: Path, repo_id: str, folder: Path, commit: str = "a" * 40) -> Path:
    """Lay ``folder`` out the way huggingface_hub caches a download: blobs, refs/main, snapshot symlinks."""
    repo = cache / ("models--" + repo_id.replace("/", "--"))
    snapshot = repo / "snapshots" / commit
    (repo / "blobs").mkdir(parents=True, exist_ok=True)
    (repo / "refs").mkdir(exist_ok=True)
    snapshot.mkdir(parents=True)
    (repo / "refs" / "main").write_text(commit)
    for file in folder.iterdir():
        if file.is_file():
            digest = hashlib.sha256(file.read_bytes()).hexdigest()
            shutil.copy(file, repo / "blobs" / digest)
            os.symlink(os.path.join("..", "..", "blobs", digest), snapshot / file.name)
    return snapshot


def test_list_shows_builtin_library_and_columns(classifier):
    saved = save_model_atomic(classifier.model, classifier.tokenizer, "my sentiment")
    entries = list_models()
    builtin = entries[0]
    assert builtin.source == "built-in" and builtin.read_only and builtin.spec == "builtin"
    assert builtin.parameters == 22_713_216 and builtin.format == "safetensors"  # all-MiniLM-L6-v2
    entry = find_model("my sentiment", entries)
    assert entry.path == saved and entry.source == "library" and not entry.read_only
    assert entry.parameters == classifier.model.num_parameters()  # from the safetensors header only
    assert entry.labels == ["negative", "positive"] and "text-classification" in entry.tasks
    assert entry.architecture == "BertForSequenceClassification" and entry.format == "safetensors"
    assert entry.tokenizer_class.startswith("Bert") and entry.size_bytes > 1_000_000 and entry.modified > 0
    data = entry.to_json()
    assert {"name", "path", "source", "architecture", "tasks", "labels", "parameters", "size_bytes", "format"} <= set(data)
    json.dumps(data)


def test_pickle_weights_are_flagged_and_counted_by_loading(classifier, tmp_path):
    import torch

    folder = tmp_path / "extra" / "pickled"
    classifier.model.save_pretrained(folder)  # transformers 5 always writes safetensors: make an old-style folder
    (folder / "model.safetensors").unlink()
    torch.save(classifier.model.state_dict(), folder / "pytorch_model.bin")
    classifier.tokenizer.save_pretrained(folder)
    entry = find_model(str(folder), list_models(extra_dirs=[str(tmp_path / "extra")]))
    assert entry.source == "folder" and entry.pickle_weights and entry.parameters is None
    assert count_parameters_by_loading(folder) == classifier.model.num_parameters()


def test_hf_cache_entries_broken_snapshot_and_delete_strategy(tiny_ner, tiny_classifier):
    cache = hf_cache_dir()
    assert str(cache).startswith(os.environ["HF_HOME"])
    make_cache_entry(cache, "org/ner", tiny_ner)
    broken = make_cache_entry(cache, "org/broken", tiny_classifier, commit="b" * 40)
    os.remove(os.path.realpath(broken / "model.safetensors"))  # a blob went missing
    entries = {e.name: e for e in list_models(include_builtin=False)}
    ner = entries["org/ner"]
    assert ner.source == "hf-cache" and ner.ok and ner.labels[1] == "B-PER" and ner.revision == "a" * 40
    assert ner.refs == ["main"] and ner.read_only
    assert "Broken cache entry" in entries["org/broken"].problem and "Blob missing" in entries["org/broken"].problem

    host = ModelHost()
    result = delete_model(ner, host=host)
    assert result.freed_bytes > 1_000_000 and not ner.path.exists()
    result = delete_model(entries["org/broken"], host=host)
    assert not entries["org/broken"].path.exists()
    assert list_models(include_builtin=False) == []


def test_symlink_loop_in_an_extra_folder_is_walked_once(tiny_encoder, tmp_path):
    extra = tmp_path / "models"
    (extra / "group" / "deeper").mkdir(parents=True)
    shutil.copytree(tiny_encoder, extra / "group" / "encoder")
    os.symlink(extra, extra / "group" / "deeper" / "back-to-top")  # a loop
    os.symlink("self", extra / "self")  # a link to itself (ELOOP)
    os.symlink(extra / "missing", extra / "dangling")
    found = find_model_folders(extra)
    assert found == [extra / "group" / "encoder"]
    entries = list_models(extra_dirs=[str(extra)], include_builtin=False)
    assert [e.name for e in entries] == ["encoder"]


def test_library_folder_not_writable(classifier, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(InputError, match="is a file"):
        save_model_atomic(classifier.model, classifier.tokenizer, "x", root=blocker)
    with pytest.raises(InputError, match="not writable|is a file"):
        save_model_atomic(classifier.model, classifier.tokenizer, "x", root=blocker / "sub")


_SAVE_IN_CHILD = """
import os, sys
from services.core.errors import InputError
from services.core.models import load_model
from services.library.folder import save_model_atomic
import services.library.verify  # everything is imported before the drop: the interpreter may live in root's home

model_dir, folder, uid, gid = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
loaded = load_model(model_dir, "text-classification")
if uid >= 0:  # from here on this process is an ordinary user
    os.setgroups([])
    os.setgid(gid)
    os.setuid(uid)
try:
    save_model_atomic(loaded.model, loaded.tokenizer, "x", root=folder)
except InputError as error:
    print("REFUSED", os.geteuid(), error)
else:
    print("SAVED", os.geteuid())
"""


def test_library_folder_without_write_permission(tiny_classifier, tmp_path):
    """A library folder the user may not write to: the save is refused with a clear message.

    Root ignores permission bits, so when the tests run as root the save runs in a child process
    that drops to ``nobody`` (setgid/setuid) before saving into a root-owned read-only folder; as an
    ordinary user the child keeps its user and the folder is made read-only.
    """
    import pwd
    import subprocess
    import sys
    import tempfile

    uid = gid = -1
    if os.geteuid() == 0:
        try:
            nobody = pwd.getpwnam("nobody")
        except KeyError:
            pytest.skip("no 'nobody' user to drop privileges to")
        uid, gid = nobody.pw_uid, nobody.pw_gid
    shared = Path(tempfile.mkdtemp(prefix="workbench-unwritable-"))  # nobody can reach it, unlike tmp_path
    shared.chmod(0o755)
    folder = shared / "read-only-library"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        home = tmp_path / "child-home"
        env = {**os.environ, "HOME": str(home), "WORKBENCH_HOME": str(home), "HF_HOME": str(home / "hf"),
               "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
        env.pop("WORKBENCH_LIBRARY", None)
        child = subprocess.run([sys.executable, "-c", _SAVE_IN_CHILD, str(tiny_classifier), str(folder), str(uid),
                                str(gid)], cwd=Path(__file__).resolve().parents[1], env=env, capture_output=True,
                               text=True, timeout=300)
        assert child.returncode == 0, child.stderr[-3000:]
        verdict = child.stdout.strip().splitlines()[-1]
        assert verdict.startswith("REFUSED") and "not writable" in verdict, verdict
        assert int(verdict.split()[1]) != 0  # it really ran unprivileged
        assert list(folder.iterdir()) == []  # nothing half-written left behind
    finally:
        folder.chmod(0o755)
        shutil.rmtree(shared, ignore_errors=True)


class DiskFullModel:
    """The real model, whose save_pretrained writes the weights and then hits a full disk."""

    def __init__(self, model):
        self.model = model

    def save_pretrained(self, folder):
        self.model.save_pretrained(folder)
        with open(Path(folder) / "more-data.bin", "wb") as handle:
            handle.write(b"x" * 1024)
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def __getattr__(self, name):
        return getattr(self.model, name)


def test_disk_full_while_saving_leaves_nothing_listed(classifier):
    with pytest.raises(InputError, match="disk is full"):
        save_model_atomic(DiskFullModel(classifier.model), classifier.tokenizer, "half")
    assert list_library_models() == []
    assert [p.name for p in library_dir().iterdir()] == []  # no staging folder left either


def test_name_collision_and_bad_names(classifier, tiny_classifier):
    save_model_atomic(classifier.model, classifier.tokenizer, "taken")
    with pytest.raises(InputError, match="already exists"):
        save_model_atomic(classifier.model, classifier.tokenizer, "taken")
    with pytest.raises(InputError, match="already exists"):
        import_folder(tiny_classifier, "taken")
    other = import_folder(tiny_classifier, "other")
    entries = list_models()
    with pytest.raises(InputError, match="already exists"):
        rename_model(find_model("other", entries), "taken")
    with pytest.raises(InputError, match="not a valid model name"):
        rename_model(find_model("other", entries), "../escape")
    assert other.exists()


def test_import_rejects_a_folder_that_is_not_a_model(tmp_path):
    folder = tmp_path / "holiday-photos"
    folder.mkdir()
    (folder / "beach.jpg").write_bytes(b"\xff\xd8")
    with pytest.raises(ModelError, match="no config.json"):
        import_folder(folder, "photos")
    with pytest.raises(InputError, match="not a folder"):
        import_folder(tmp_path / "nope", "nope")
    assert list_library_models() == []


def test_import_copies_with_progress_and_cancel_leaves_nothing(tiny_classifier):
    seen = []
    path = import_folder(tiny_classifier, "imported", progress=lambda d, t=None, m="", data=None: seen.append((d, t)))
    assert (path / "model.safetensors").read_bytes() == (tiny_classifier / "model.safetensors").read_bytes()
    assert seen[-1][0] == seen[-1][1] and len(seen) > 2
    token = CancelToken()

    def cancel_half(done, total=None, message="", data=None):
        if total and done > total / 3:
            token.cancel()

    with pytest.raises(Cancelled):
        import_folder(tiny_classifier, "cancelled", progress=cancel_half, cancel=token)
    assert [p.name for p in list_library_models()] == ["imported"]
    assert sorted(p.name for p in library_dir().iterdir()) == ["imported"]


def test_rename_duplicate_and_read_only_sources(tiny_classifier):
    import_folder(tiny_classifier, "first")
    entries = list_models()
    renamed = rename_model(find_model("first", entries), "second")
    assert renamed.name == "second" and not (library_dir() / "first").exists()
    entries = list_models()
    copy = duplicate_model(find_model("second", entries), "third")
    assert (copy / "config.json").exists()
    builtin = find_model("builtin", entries)
    with pytest.raises(InputError, match="read-only"):
        rename_model(builtin, "mine")
    with pytest.raises(InputError, match="read-only"):
        delete_model(builtin)


def test_deleting_the_loaded_model_unloads_it_and_says_so(tiny_classifier):
    path = import_folder(tiny_classifier, "in use")
    host = ModelHost()
    host.get(str(path), "text-classification")
    assert str(path.resolve()) in host.loaded_paths()
    entry = find_model("in use", list_models())
    result = delete_model(entry, host=host)
    assert result.was_loaded and "unloaded" in result.message and result.freed_bytes > 1_000_000
    assert host.loaded_paths() == set() and not path.exists()


def test_edit_labels_rewrites_id2label_and_label2id(tiny_classifier):
    path = import_folder(tiny_classifier, "labels")
    entry = find_model("labels", list_models())
    edit_labels(entry, ["bad", "good"])
    config = json.loads((path / "config.json").read_text())
    assert config["id2label"] == {"0": "bad", "1": "good"} and config["label2id"] == {"bad": 0, "good": 1}
    assert find_model("labels", list_models()).labels == ["bad", "good"]
    with pytest.raises(InputError, match="different"):
        edit_labels(entry, ["same", "same"])
    with pytest.raises(InputError, match="2 labels"):
        edit_labels(entry, ["one"])
    reloaded = load_model(str(path), "text-classification")
    assert reloaded.model.config.id2label == {0: "bad", 1: "good"}


def test_verify_passes_for_a_saved_model_and_fails_for_changed_weights(classifier, tmp_path):
    from tests.tiny_models import build_classifier

    path = save_model_atomic(classifier.model, classifier.tokenizer, "checked")
    assert (path / PROBE_FILE).exists()
    stored = verify_model(str(path))
    assert stored.passed and stored.reference == "stored" and stored.max_abs_diff == 0.0
    in_memory = verify_model(str(path), reference=(classifier.model, classifier.tokenizer))
    assert in_memory.passed and in_memory.reference == "memory" and "PASS" in in_memory.message
    other = build_classifier(tmp_path / "other", seed=7)  # same architecture, different weights
    shutil.copy(other / "model.safetensors", path / "model.safetensors")
    changed = verify_model(str(path))
    assert not changed.passed and "FAIL" in changed.message and changed.max_abs_diff > 1e-3


def test_model_card_is_rendered_with_html_escaped(tmp_path):
    (tmp_path / "README.md").write_text("---\nlicense: mit\n---\n# Title\n\n**bold** <script>alert(1)</script>\n"
                                        "<img src=x onerror=alert(1)>\n")
    html = model_card_html(tmp_path)
    assert "<h1>Title</h1>" in html and "<strong>bold</strong>" in html
    assert "<script>" not in html and "&lt;script&gt;" in html and "<img" not in html
    assert "license: mit" in html
    assert "No model card" in model_card_html(tmp_path / "none")
