"""A small HTTP server on 127.0.0.1 that speaks enough of the Hugging Face Hub protocol for tests.

Point ``HF_ENDPOINT`` at :attr:`FakeHub.url`. It serves:

* ``GET /api/models?search=&pipeline_tag=&sort=downloads&limit=`` (search),
* ``GET /api/models/{repo}`` and ``/api/models/{repo}/revision/{rev}`` (with ``siblings``; ``?blobs=true`` adds sizes/LFS),
* ``HEAD``/``GET /{repo}/resolve/{rev}/{file}`` with ``X-Repo-Commit``, ``ETag`` (git blob sha1, or sha256 plus
  ``X-Linked-Etag``/``X-Linked-Size`` for LFS files), ``Content-Length`` and ``Range`` → 206 for resumes.

Test controls: :meth:`FakeHub.pause_after` holds a file's body after N bytes until :attr:`gate` is set
(``paused`` tells the test the server got there), :meth:`FakeHub.drop_after` closes the connection after N
bytes once (a dropped connection). Every request is recorded in :attr:`requests`.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

LFS_SUFFIXES = (".safetensors", ".bin", ".h5", ".msgpack", ".ot", ".onnx")
CHUNK = 64 * 1024


@dataclass
class Repo:
    repo_id: str
    files: dict[str, bytes]
    downloads: int = 0
    likes: int = 0
    pipeline_tag: str = ""
    commit: str = ""

    def __post_init__(self):
        self.commit = hashlib.sha1(("commit:" + self.repo_id).encode()).hexdigest()

    def is_lfs(self, name: str) -> bool:
        return name.endswith(LFS_SUFFIXES)

    def etag(self, name: str) -> str:
        data = self.files[name]
        if self.is_lfs(name):
            return hashlib.sha256(data).hexdigest()
        return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


@dataclass
class Request:
    method: str
    path: str
    range: str | None
    sent: int = 0


@dataclass
class FakeHub:
    repos: dict[str, Repo] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    gate: threading.Event = field(default_factory=threading.Event)
    paused: threading.Event = field(default_factory=threading.Event)
    _pause: dict[str, int] = field(default_factory=dict)
    _drop: dict[str, int] = field(default_factory=dict)
    _server: ThreadingHTTPServer | None = None
    _thread: threading.Thread | None = None

    # -- set-up --------------------------------------------------------------------------------
    def add_model(self, repo_id: str, files: dict[str, bytes] | None = None, folder: Path | None = None,
                  **fields) -> Repo:
        files = dict(files or {})
        if folder is not None:
            for path in sorted(Path(folder).rglob("*")):
                if path.is_file():
                    files[path.relative_to(folder).as_posix()] = path.read_bytes()
        repo = Repo(repo_id, files, **fields)
        self.repos[repo_id] = repo
        return repo

    def pause_after(self, file_name: str, nbytes: int) -> None:
        """Hold the body of ``file_name`` after ``nbytes`` until ``gate`` is set."""
        self._pause[file_name] = nbytes

    def drop_after(self, file_name: str, nbytes: int) -> None:
        """Close the connection once after sending ``nbytes`` of ``file_name``."""
        self._drop[file_name] = nbytes

    def file_requests(self, file_name: str, method: str = "GET") -> list[Request]:
        return [r for r in self.requests if r.method == method and r.path.endswith("/" + file_name)]

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> str:
        hub = self

        class Handler(_Handler):
            fake = hub

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self.url

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stop(self) -> None:
        self.gate.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    fake: FakeHub

    def log_message(self, format, *args):  # noqa: A002 - quiet
        pass

    # -- helpers ---------------------------------------------------------------------------------
    def _json(self, status: int, payload, headers: dict | None = None) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _not_found(self, code: str, message: str, repo: Repo | None = None) -> None:
        headers = {"X-Error-Code": code, "X-Error-Message": message}
        if repo is not None:
            headers["X-Repo-Commit"] = repo.commit
        self._json(404, {"error": message}, headers)

    def _repo(self, repo_id: str, revision: str | None) -> Repo | None:
        repo = self.fake.repos.get(repo_id)
        if repo is None:
            self._not_found("RepoNotFound", "Repository not found")
            return None
        if revision not in (None, "main", repo.commit):
            self._not_found("RevisionNotFound", "Invalid rev id", repo)
            return None
        return repo

    # -- routes ----------------------------------------------------------------------------------
    def do_HEAD(self):
        self._route()

    def do_GET(self):
        self._route()

    def _route(self):
        parsed = urlparse(self.path)
        path = unquote(parsed.path)
        record = Request(self.command, path, self.headers.get("Range"))
        self.fake.requests.append(record)
        if path == "/api/models":
            return self._search(parse_qs(parsed.query))
        match = re.fullmatch(r"/api/models/(.+?)(?:/revision/([^/]+))?", path)
        if match:
            return self._model_info(match.group(1), match.group(2), parse_qs(parsed.query))
        match = re.fullmatch(r"/(.+?)/resolve/([^/]+)/(.+)", path)
        if match:
            return self._resolve(match.group(1), match.group(2), match.group(3), record)
        self._json(404, {"error": "not found"})

    def _search(self, query: dict) -> None:
        text = (query.get("search") or [""])[0].lower()
        tag = (query.get("pipeline_tag") or [""])[0]
        limit = int((query.get("limit") or ["1000"])[0])
        repos = [r for r in self.fake.repos.values()
                 if text in r.repo_id.lower() and (not tag or r.pipeline_tag == tag)]
        if (query.get("sort") or [""])[0] == "downloads":
            repos.sort(key=lambda r: r.downloads, reverse=True)
        self._json(200, [self._summary(r) for r in repos[:limit]])

    def _summary(self, repo: Repo) -> dict:
        return {"id": repo.repo_id, "modelId": repo.repo_id, "downloads": repo.downloads, "likes": repo.likes,
                "pipeline_tag": repo.pipeline_tag or None, "tags": ["transformers", "pytorch"],
                "library_name": "transformers", "private": False, "createdAt": "2024-01-02T03:04:05.000Z",
                "lastModified": "2024-05-06T07:08:09.000Z"}

    def _model_info(self, repo_id: str, revision: str | None, query: dict) -> None:
        repo = self._repo(repo_id, revision)
        if repo is None:
            return
        blobs = (query.get("blobs") or [""])[0].lower() == "true"
        siblings = []
        for name, data in sorted(repo.files.items()):
            sibling = {"rfilename": name}
            if blobs:
                sibling.update(size=len(data), blobId=hashlib.sha1(data).hexdigest())
                if repo.is_lfs(name):
                    sibling["lfs"] = {"size": len(data), "sha256": repo.etag(name), "pointerSize": 134}
            siblings.append(sibling)
        self._json(200, {**self._summary(repo), "sha": repo.commit, "siblings": siblings})

    def _resolve(self, repo_id: str, revision: str, name: str, record: Request) -> None:
        repo = self._repo(repo_id, revision)
        if repo is None:
            return
        if name not in repo.files:
            return self._not_found("EntryNotFound", "Entry not found", repo)
        data = repo.files[name]
        start = 0
        range_header = self.headers.get("Range")
        if range_header and self.command == "GET":
            match = re.fullmatch(r"bytes=(\d+)-(\d*)", range_header.strip())
            if match:
                start = int(match.group(1))
        status = 206 if start else 200
        body = data[start:]
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body) if self.command == "GET" else len(data)))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("X-Repo-Commit", repo.commit)
        etag = repo.etag(name)
        self.send_header("ETag", f'"{etag}"')
        if repo.is_lfs(name):
            self.send_header("X-Linked-Etag", f'"{etag}"')
            self.send_header("X-Linked-Size", str(len(data)))
        if status == 206:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.end_headers()
        if self.command == "HEAD":
            return
        self._send_body(name, body, start, record)

    def _send_body(self, name: str, body: bytes, start: int, record: Request) -> None:
        fake = self.fake
        offset = 0
        try:
            while offset < len(body):
                position = start + offset
                pause = fake._pause.get(name)
                if pause is not None and position >= pause and not fake.gate.is_set():
                    fake.paused.set()
                    fake.gate.wait(timeout=60)
                drop = fake._drop.get(name)
                if drop is not None and position >= drop:
                    del fake._drop[name]
                    self.close_connection = True
                    return
                limit = len(body)
                for boundary in (pause, drop):
                    if boundary is not None and boundary - start > offset:
                        limit = min(limit, boundary - start)
                end = min(limit, offset + CHUNK)
                self.wfile.write(body[offset:end])
                self.wfile.flush()
                record.sent += end - offset
                offset = end
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
