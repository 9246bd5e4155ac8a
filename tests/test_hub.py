"""Hub search and resumable downloads against a local server that speaks the Hub's protocol (no internet)."""

from __future__ import annotations

import json
import socket
import threading

import pytest

from services.core.cancel import CancelToken
from services.core.errors import Cancelled, InputError
from services.library.hub import HubError, HubOfflineError, choose_files, recommended_models, search_models
from services.library.hub_download import DOWNLOADS_DIR, download_model
from services.library.folder import library_dir
from tests.hub_server import FakeHub

REPO = "tiny-org/tiny-sentiment"
OTHER_FRAMEWORK_FILES = {"tf_model.h5": b"h5" * 500, "flax_model.msgpack": b"m" * 700, "rust_model.ot": b"r" * 300,
                         "onnx/model.onnx": b"o" * 400, "pytorch_model.bin": b"pickle" * 100}


@pytest.fixture
def hub(tiny_classifier, monkeypatch):
    import huggingface_hub.constants

    fake = FakeHub()
    card = "---\nlicense: apache-2.0\n---\n# Tiny sentiment\n<script>alert(1)</script>\n"
    fake.add_model(REPO, folder=tiny_classifier, files={**OTHER_FRAMEWORK_FILES, "README.md": card.encode(),
                                                        ".gitattributes": b"*.bin filter=lfs\n"},
                   downloads=500, likes=7, pipeline_tag="text-classification")
    fake.add_model("tiny-org/tiny-ner", files={"config.json": b"{}"}, downloads=900, pipeline_tag="token-classification")
    fake.add_model("other/bert-thing", files={"config.json": b"{}"}, downloads=10, pipeline_tag="fill-mask")
    fake.start()
    monkeypatch.setenv("HF_ENDPOINT", fake.url)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)  # read at import; the env is what counts
    yield fake
    fake.stop()


def weights_size(hub: FakeHub) -> int:
    return len(hub.repos[REPO].files["model.safetensors"])


def test_search_sorted_by_downloads_and_filtered_by_task(hub):
    found = search_models("tiny")
    assert [m.repo_id for m in found] == ["tiny-org/tiny-ner", REPO]
    assert found[0].downloads == 900 and found[1].task == "text-classification"
    only = search_models("", task="text-classification")
    assert [m.repo_id for m in only] == [REPO]
    query = next(r for r in hub.requests if r.path == "/api/models")
    assert query.method == "GET"


def test_recommended_list_names_the_course_models():
    ids = [m.repo_id for m in recommended_models()]
    assert "dslim/bert-base-NER" in ids and "facebook/bart-large-mnli" in ids and len(ids) == len(set(ids)) == 11


def test_choose_files_prefers_safetensors_and_skips_other_frameworks():
    keep, skipped = choose_files(["config.json", "model.safetensors", "pytorch_model.bin", "tf_model.h5",
                                  "flax_model.msgpack", "rust_model.ot", "onnx/model.onnx", "vocab.txt", ".gitattributes"])
    assert keep == ["config.json", "model.safetensors", "vocab.txt"]
    assert set(skipped) == {"pytorch_model.bin", "tf_model.h5", "flax_model.msgpack", "rust_model.ot",
                            "onnx/model.onnx", ".gitattributes"}
    keep, _ = choose_files(["config.json", "pytorch_model.bin"])  # only pickle weights: keep them
    assert keep == ["config.json", "pytorch_model.bin"]


def test_download_reports_progress_skips_other_frameworks_and_loads(hub):
    events = []
    folder = download_model(REPO, progress=lambda done, total=None, message="", data=None: events.append((done, total, data)))
    assert folder == library_dir() / "tiny-sentiment"
    names = {p.name for p in folder.iterdir()}
    assert {"config.json", "model.safetensors", "vocab.txt", "tokenizer_config.json", "README.md"} <= names
    assert not names & {"tf_model.h5", "flax_model.msgpack", "rust_model.ot", "onnx", "pytorch_model.bin", ".gitattributes"}
    assert (folder / "model.safetensors").read_bytes() == hub.repos[REPO].files["model.safetensors"]
    assert hub.file_requests("tf_model.h5") == [] and hub.file_requests("pytorch_model.bin") == []
    per_file = [d for _, _, d in events if d and "file" in d]
    assert any(d["file"] == "model.safetensors" and 0 < d["file_done"] < d["file_size"] for d in per_file) or \
        any(d["file"] == "model.safetensors" for d in per_file)
    totals = [(done, total) for done, total, _ in events if total]
    assert totals[-1][0] == totals[-1][1]  # ends at 100 %
    assert all(a[0] <= b[0] for a, b in zip(totals, totals[1:]))  # never goes backwards
    assert not any((library_dir() / DOWNLOADS_DIR).iterdir())  # nothing half-done left behind
    source = json.loads((folder / ".workbench-source.json").read_text())
    assert source["repo_id"] == REPO and source["commit"] == hub.repos[REPO].commit

    from services.core.models import load_model

    loaded = load_model(str(folder), "text-classification")
    assert set(loaded.model.config.id2label.values()) == {"negative", "positive"}


def test_cancel_midway_then_resume_continues_with_range(hub, monkeypatch):
    size = weights_size(hub)
    monkeypatch.setenv("WORKBENCH_DOWNLOAD_CHUNK", str(64 * 1024))
    half = size // 2 // (64 * 1024) * (64 * 1024)  # a chunk boundary: the client writes whole chunks
    hub.pause_after("model.safetensors", half)
    token = CancelToken()
    outcome = {}
    half_written = threading.Event()

    def progress(done, total=None, message="", data=None):
        if data and data.get("file") == "model.safetensors" and data.get("file_done", 0) >= half:
            half_written.set()

    def run():
        try:
            outcome["path"] = download_model(REPO, cancel=token, progress=progress)
        except BaseException as error:  # noqa: BLE001
            outcome["error"] = error

    worker = threading.Thread(target=run)
    worker.start()
    assert hub.paused.wait(timeout=60), "the download never reached the middle of the weights"
    assert half_written.wait(timeout=60), "the child never reported the bytes it wrote"
    token.cancel()
    worker.join(timeout=30)
    assert isinstance(outcome.get("error"), Cancelled)
    assert not (library_dir() / "tiny-sentiment").exists()  # a half download is never listed
    parts = list((library_dir() / DOWNLOADS_DIR).rglob("model.safetensors.incomplete"))
    assert len(parts) == 1
    partial = parts[0].stat().st_size
    assert partial == half

    hub.gate.set()
    hub.requests.clear()
    events = []
    folder = download_model(REPO, progress=lambda done, total=None, message="", data=None: events.append(data))
    assert (folder / "model.safetensors").read_bytes() == hub.repos[REPO].files["model.safetensors"]
    gets = hub.file_requests("model.safetensors")
    assert [r.range for r in gets] == [f"bytes={partial}-"]
    assert gets[0].sent == size - partial  # only the missing part travelled
    assert hub.file_requests("config.json") == []  # finished files are not fetched again
    assert any(d and "resume" in d for d in events)


def test_dropped_connection_resumes_in_the_same_download(hub):
    size = weights_size(hub)
    hub.drop_after("model.safetensors", size // 3)
    folder = download_model(REPO)
    assert (folder / "model.safetensors").read_bytes() == hub.repos[REPO].files["model.safetensors"]
    ranges = [r.range for r in hub.file_requests("model.safetensors")]
    assert ranges[0] is None and len(ranges) == 2 and ranges[1].startswith("bytes=") and ranges[1] != "bytes=0-"


def test_offline_mode_gives_a_clear_message_fast(hub, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(HubOfflineError, match="Offline mode"):
        search_models("tiny")
    with pytest.raises(HubOfflineError, match="Offline mode"):
        download_model(REPO)
    assert hub.requests == []


def test_connection_refused_is_reported_as_offline(monkeypatch):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # closed again below: nothing listens there
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("TRANSFORMERS_OFFLINE", raising=False)
    with pytest.raises(HubOfflineError, match="Cannot reach the Hub"):
        search_models("bert")
    with pytest.raises(HubOfflineError, match="Cannot reach the Hub"):
        download_model("bert-base-uncased")


def test_unknown_repo_and_name_collision(hub):
    with pytest.raises(HubError, match="no such model"):
        download_model("tiny-org/does-not-exist")
    with pytest.raises(InputError, match="not a Hub repository id"):
        download_model("../../etc")
    download_model(REPO)
    with pytest.raises(InputError, match="already exists"):
        download_model(REPO)
    assert download_model(REPO, name="tiny copy").name == "tiny copy"
