"""Download a Hub model into the library, resumably, in a child process that Cancel can kill.

``download_model()`` (called by the GUI job and the CLI) starts the app itself with the internal verb
``_hub-download`` (``python main.py _hub-download …`` from source, ``transformers-workbench _hub-download …``
in the built app: one code path, see :func:`app_command`) and reads its progress as JSON lines on stdout. The child fetches each file into
``<library>/.downloads/<repo>-<commit>/<file>.incomplete`` with HTTP ``Range`` requests, so a
download stopped by Cancel, a crash or a dropped connection continues where it stopped. Checksums
(sha256 for LFS files, the git blob hash for the others) are checked, and the finished folder is
renamed into the library in one step: a half-downloaded model is never listed.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from services.core.cancel import NEVER_CANCELLED, CancelToken, Progress, no_progress
from services.core.errors import Cancelled, InputError, WorkbenchError
from services.library.hub import (API_TIMEOUT_S, HubError, HubOfflineError, check_online, choose_files, default_model_name,
                          hub_endpoint, hub_error, offline_mode)
from services.library.folder import check_model_name, disk_error, ensure_library_writable, library_dir

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CHILD_VERB = "_hub-download"  # main.py hands this verb to child_main()
DOWNLOADS_DIR = ".downloads"
SOURCE_FILE = ".workbench-source.json"
EMIT_INTERVAL_S = 0.1
CHUNK_SIZE = 1024 * 1024
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_SHA1 = re.compile(r"^[0-9a-f]{40}$")


def staging_dir(root: Path, repo_id: str, commit: str) -> Path:
    return root / DOWNLOADS_DIR / f"{repo_id.replace('/', '--')}-{commit[:12]}"


# ============================================================================ child process
def _emit(event: str, **fields) -> None:
    sys.stdout.write(json.dumps({"event": event, **fields}) + "\n")
    sys.stdout.flush()


class _CountingFile:
    """A file wrapper that reports every written chunk (what ``http_get`` writes into)."""

    def __init__(self, handle, on_write):
        self._handle, self._on_write = handle, on_write

    def write(self, data) -> int:
        written = self._handle.write(data)
        self._on_write(len(data))
        return written

    def truncate(self, size=None):
        result = self._handle.truncate(size)
        self._on_write(None)  # the server ignored Range: the file restarts from zero
        return result

    def __getattr__(self, name):
        return getattr(self._handle, name)


def _checksum_ok(path: Path, etag: str | None) -> bool:
    if not etag:
        return True
    if _SHA256.match(etag):
        digest = hashlib.sha256()
    elif _SHA1.match(etag):
        digest = hashlib.sha1()
        digest.update(f"blob {path.stat().st_size}\0".encode())
    else:
        return True
    with open(path, "rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    return digest.hexdigest() == etag


def child_download(repo_id: str, revision: str, root: Path, name: str) -> Path:
    from huggingface_hub import HfApi
    from huggingface_hub.file_download import get_hf_file_metadata, hf_hub_url, http_get
    from huggingface_hub.utils import build_hf_headers

    from huggingface_hub import constants

    # huggingface_hub buffers 10 MB before writing; smaller chunks give finer progress and resume points.
    constants.DOWNLOAD_CHUNK_SIZE = int(os.environ.get("WORKBENCH_DOWNLOAD_CHUNK", str(CHUNK_SIZE)))
    endpoint = hub_endpoint()
    target = root / name
    if target.exists():
        raise InputError(f"A model named '{name}' already exists in the library.", hint="Choose another name.")
    _emit("status", message=f"Contacting {endpoint}")
    check_online(endpoint)
    try:
        info = HfApi(endpoint=endpoint).model_info(repo_id, revision=revision, files_metadata=True, timeout=API_TIMEOUT_S)
    except Exception as error:  # noqa: BLE001 - converted by type
        raise hub_error(error, f"Cannot download '{repo_id}'") from error
    commit = info.sha or revision
    sizes = {s.rfilename: (s.lfs.size if s.lfs else s.size) or 0 for s in (info.siblings or [])}
    keep, skipped = choose_files(sorted(sizes))
    if "config.json" not in keep:
        raise HubError(f"'{repo_id}' has no config.json, so it is not a Transformers model.")
    staging = staging_dir(root, repo_id, commit)
    staging.mkdir(parents=True, exist_ok=True)
    total = sum(sizes[n] for n in keep)
    state = {"done": 0, "file": "", "file_done": 0, "file_size": 0, "last": 0.0}

    lock = threading.Lock()
    emitted: dict = {}

    def report(force: bool = False) -> None:
        with lock:
            now = time.monotonic()
            snapshot = (state["done"], state["file"], state["file_done"])
            if (force or now - state["last"] >= EMIT_INTERVAL_S) and emitted.get("last") != snapshot:
                state["last"] = now
                emitted["last"] = snapshot
                _emit("progress", done=state["done"], total=total, file=state["file"], file_done=state["file_done"],
                      file_size=state["file_size"])

    def ticker() -> None:  # a stalled connection still reports the last bytes that arrived
        while not stop_ticker.wait(EMIT_INTERVAL_S * 2):
            report(force=True)

    stop_ticker = threading.Event()
    threading.Thread(target=ticker, daemon=True).start()

    already = sum(sizes[n] for n in keep if (staging / n).is_file())
    partial = sum((staging / f"{n}.incomplete").stat().st_size for n in keep if (staging / f"{n}.incomplete").is_file())
    _emit("plan", commit=commit, files=[{"name": n, "size": sizes[n]} for n in keep], skipped=skipped, total=total,
          already=already, partial=partial)
    headers = build_hf_headers()
    for file_name in keep:
        final = staging / file_name
        state.update(file=file_name, file_done=0, file_size=sizes[file_name])
        if final.is_file():
            state["done"] += final.stat().st_size
            state["file_done"] = final.stat().st_size
            report(force=True)
            continue
        url = hf_hub_url(repo_id, file_name, revision=commit, endpoint=endpoint)
        try:
            metadata = get_hf_file_metadata(url, timeout=API_TIMEOUT_S, headers=dict(headers), endpoint=endpoint,
                                            retry_on_errors=True)
        except Exception as error:  # noqa: BLE001
            raise hub_error(error, f"Cannot download '{file_name}'") from error
        expected = metadata.size if metadata.size is not None else sizes[file_name]
        part = staging / f"{file_name}.incomplete"
        part.parent.mkdir(parents=True, exist_ok=True)
        resume = part.stat().st_size if part.is_file() else 0
        if expected is not None and resume > expected:
            part.unlink()
            resume = 0
        state["done"] += resume
        state["file_done"] = resume
        base_done = state["done"] - resume

        def on_write(count: int | None) -> None:
            if count is None:  # restarted from zero
                state["done"] = base_done
                state["file_done"] = 0
                return
            state["done"] += count
            state["file_done"] += count
            report()

        if resume:
            _emit("resume", file=file_name, offset=resume)
        try:
            with open(part, "ab") as handle:
                http_get(metadata.location, _CountingFile(handle, on_write), resume_size=resume,
                         headers=dict(headers), expected_size=expected, displayed_filename=file_name)
        except OSError as error:
            if getattr(error, "errno", None) is not None:
                raise disk_error(name, error) from None
            raise hub_error(error, f"Downloading '{file_name}' failed") from error
        except Exception as error:  # noqa: BLE001
            raise hub_error(error, f"Downloading '{file_name}' failed") from error
        if not _checksum_ok(part, metadata.etag):
            part.unlink()
            raise HubError(f"'{file_name}' arrived corrupted (checksum mismatch); it was discarded.",
                           hint="Try the download again.")
        os.replace(part, final)
        report(force=True)
    stop_ticker.set()
    (staging / SOURCE_FILE).write_text(json.dumps({"repo_id": repo_id, "revision": revision, "commit": commit,
                                                   "endpoint": endpoint, "skipped": skipped}), encoding="utf-8")
    if target.exists():
        raise InputError(f"A model named '{name}' already exists in the library.", hint="Choose another name.")
    os.replace(staging, target)
    for stale in (root / DOWNLOADS_DIR).glob(f"{repo_id.replace('/', '--')}-*"):  # partials of older commits
        shutil.rmtree(stale, ignore_errors=True)
    _emit("done", path=str(target), commit=commit)
    return target


def child_main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=f"main.py {CHILD_VERB}")
    parser.add_argument("repo_id")
    parser.add_argument("--revision", default="main")
    parser.add_argument("--root", required=True)
    parser.add_argument("--name", required=True)
    args = parser.parse_args(argv)
    try:
        child_download(args.repo_id, args.revision, Path(args.root), args.name)
    except HubOfflineError as error:
        _emit("error", kind="offline", message=error.message, hint=error.hint)
        return 3
    except HubError as error:
        _emit("error", kind="hub", message=error.message, hint=error.hint)
        return 2
    except WorkbenchError as error:
        _emit("error", kind="input", message=error.message, hint=error.hint)
        return 2
    except Exception as error:  # noqa: BLE001 - one readable line for the parent
        _emit("error", kind="other", message=f"{type(error).__name__}: {error}", hint="")
        return 1
    return 0


# ============================================================================ parent side
ERROR_KINDS = {"offline": HubOfflineError, "hub": HubError, "input": InputError}


def app_command(*args: str) -> list[str]:
    """The command line that starts this app again with ``args``, from source and frozen alike.

    A frozen app's ``sys.executable`` is the app itself (it cannot run ``-m module``); from source it
    is Python, which runs ``main.py``. Either way ``main.py`` dispatches the internal verb.
    """
    if getattr(sys, "frozen", False):
        return [sys.executable, *args]
    return [sys.executable, str(PROJECT_ROOT / "main.py"), *args]


def download_command(repo_id: str, revision: str, root: Path, name: str) -> list[str]:
    return app_command(CHILD_VERB, repo_id, "--revision", revision, "--root", str(root), "--name", name)


def download_model(repo_id: str, revision: str = "main", root: str | os.PathLike | None = None,
                   name: str | None = None, *, progress: Progress = no_progress,
                   cancel: CancelToken = NEVER_CANCELLED) -> Path:
    """Download ``repo_id`` at ``revision`` into the library as ``name``; returns the model folder.

    Runs in a child process; Cancel kills it (partial files stay and the next call resumes them).
    ``progress`` gets total bytes and, in ``data``, the current file and its bytes.
    """
    repo_id = repo_id.strip()
    if not re.fullmatch(r"[\w.\-]+(/[\w.\-]+)?", repo_id):
        raise InputError(f"'{repo_id}' is not a Hub repository id.", hint="Use 'owner/name', e.g. 'dslim/bert-base-NER'.")
    name = check_model_name(name or default_model_name(repo_id))
    if offline_mode():
        check_online()  # raises the offline-mode message without starting a process
    folder = ensure_library_writable(library_dir(root))
    if (folder / name).exists():
        raise InputError(f"A model named '{name}' already exists in the library.", hint="Choose another name.")
    env = dict(os.environ, PYTHONUNBUFFERED="1", HF_HUB_DISABLE_PROGRESS_BARS="1")
    process = subprocess.Popen(download_command(repo_id, revision, folder, name), cwd=str(PROJECT_ROOT), env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                               text=True, encoding="utf-8", errors="replace")
    events: queue.Queue = queue.Queue()
    stderr_tail: collections.deque[str] = collections.deque(maxlen=20)
    readers = [threading.Thread(target=lambda: [events.put(line) for line in process.stdout], daemon=True),
               threading.Thread(target=lambda: [stderr_tail.append(line.rstrip()) for line in process.stderr], daemon=True)]
    for reader in readers:
        reader.start()
    result: Path | None = None
    failure: dict | None = None
    try:
        progress(0, None, f"Starting the download of {repo_id}")
        while True:
            cancel.check()
            try:
                line = events.get(timeout=0.1)
            except queue.Empty:
                if process.poll() is not None and not readers[0].is_alive() and events.empty():
                    break
                continue
            try:
                event = json.loads(line)
            except ValueError:
                continue
            kind = event.get("event")
            if kind == "status":
                progress(0, None, event["message"])
            elif kind == "plan":
                progress(event["already"] + event["partial"], event["total"] or None,
                         f"{len(event['files'])} files, {len(event['skipped'])} skipped (other frameworks)",
                         data={"plan": event})
            elif kind == "resume":
                progress(0, None, f"Resuming {event['file']} at {event['offset']:,} bytes", data={"resume": event})
            elif kind == "progress":
                progress(event["done"], event["total"] or None, f"{event['file']}", data=event)
            elif kind == "done":
                result = Path(event["path"])
            elif kind == "error":
                failure = event
    except Cancelled:
        process.kill()
        process.wait()
        raise
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        for reader in readers:
            reader.join(timeout=5)
        for stream in (process.stdout, process.stderr):
            stream.close()
    if failure is not None:
        raise ERROR_KINDS.get(failure["kind"], HubError)(failure["message"], hint=failure.get("hint", ""))
    if result is None or process.returncode != 0:
        last = next((line for line in reversed(stderr_tail) if line.strip()), "no output")
        raise HubError(f"The download of '{repo_id}' stopped unexpectedly (exit code {process.returncode}): {last}")
    return result

