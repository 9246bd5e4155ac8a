"""``main.py analyse --ray``: the same analysis on Ray, checked against the local engine.

Every Ray run here is ``--ray local``: a private Ray instance on this machine bound to 127.0.0.1
(the run refuses to go on if Ray bound anything else, and one test checks that every socket Ray
listens on is a loopback one). Ray runs are subprocesses, as a user runs them, so Ctrl+C, killed
workers and leftover processes are real.

The tests marked ``needs_ray`` skip where Ray is not installed or cannot start a local instance;
the reason is printed in pytest's warnings summary (with ``WORKBENCH_REQUIRE_RAY=1``, as in CI,
they fail instead). The tests without Ray (the batch adapter, the
message when Ray is missing, the base path never importing Ray) always run.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import socket
import sys
import tempfile
import textwrap
import time
import warnings
from pathlib import Path

import pytest

import main

ROOT = Path(__file__).resolve().parent.parent
TOLERANCE = 1e-5


# -- helpers -------------------------------------------------------------------------------------------
def cli_env(**extra) -> dict:
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false",
               PYTHONUNBUFFERED="1", **extra)
    env.pop("RAY_ADDRESS", None)
    return env


def analyse_cmd(*args) -> list[str]:
    return [sys.executable, str(ROOT / "main.py"), "analyse", *map(str, args)]


def run_analyse(*args, env=None, timeout=600) -> subprocess.CompletedProcess:
    return subprocess.run(analyse_cmd(*args), cwd=ROOT, env=env or cli_env(), capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(autouse=True)
def own_home(tmp_path, monkeypatch):
    """Ray keeps its token in ~/.ray: the runs here get a HOME of their own, never the user's."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))


def local_rows(capsys, tmp_path, name, *args) -> list[dict]:
    """The reference: the same analysis through the local engine (in this process)."""
    out = tmp_path / f"{name}.jsonl"
    code = main.main(["analyse", *map(str, args), "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 0, err
    return [json.loads(line) for line in out.read_text().splitlines()]


def read_rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def assert_close(a, b, where="row"):
    """Equal structures; floats within TOLERANCE."""
    if isinstance(a, float) or isinstance(b, float):
        assert isinstance(a, (int, float)) and isinstance(b, (int, float)), f"{where}: {a!r} vs {b!r}"
        assert abs(a - b) <= TOLERANCE, f"{where}: {a} vs {b}"
    elif isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), f"{where}: keys {sorted(a)} vs {sorted(b)}"
        for key in a:
            assert_close(a[key], b[key], f"{where}.{key}")
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), f"{where}: {a!r} vs {b!r}"
        for number, (x, y) in enumerate(zip(a, b)):
            assert_close(x, y, f"{where}[{number}]")
    else:
        assert a == b, f"{where}: {a!r} vs {b!r}"


def assert_same_results(local: list[dict], remote: list[dict]) -> None:
    assert [r["id"] for r in remote] == [r["id"] for r in local], "ids differ (missing, duplicated or reordered)"
    assert len({r["id"] for r in remote}) == len(remote)
    for mine, theirs in zip(local, remote):
        if "labels" in mine:  # zero-shot: labels sorted by score (a near-tie may swap two); compare per label
            mine, theirs = by_label(mine), by_label(theirs)
        assert_close(mine, theirs, mine["id"])


def by_label(row: dict) -> dict:
    row = dict(row)
    labels = row.pop("labels")
    for key in ("scores", "cosines"):
        if key in row:
            row[key] = dict(zip(labels, row[key]))
    return row


def make_inputs(folder: Path, lines: int = 40) -> Path:
    """txt + csv + jsonl (three readers), short and long texts (truncation), one empty CSV cell."""
    folder.mkdir(parents=True, exist_ok=True)
    words = ("Maria Lopez flew from Berlin to Paris for Acme . The app crashes on start and support never "
             "answered ; great battery , awful screen , quarterly profits rose in Rome").split()
    texts = [" ".join(words[(i * 7 + k) % len(words)] for k in range(3 + (i * 13) % 37)) for i in range(lines)]
    texts[5] = " ".join(words * 12)  # longer than the tiny models' 128 tokens
    (folder / "notes.txt").write_text("\n".join(texts) + "\n")
    (folder / "tickets.csv").write_text("text,label\n" + "".join(f'"{t}",{"positive" if i % 2 else "negative"}\n'
                                                                  for i, t in enumerate(texts[:15])) + '"",negative\n')
    (folder / "chat.jsonl").write_text("".join(json.dumps({"text": t.upper()}) + "\n" for t in texts[:10]))
    return folder


def big_input(tmp_path: Path, rows: int) -> Path:
    path = tmp_path / "big" / "lines.txt"
    path.parent.mkdir()
    words = "the service was slow but the food in Berlin was great and Maria loved it".split()
    path.write_text("".join(" ".join(words[(i + k) % len(words)] for k in range(4 + i % 20)) + f" {i}\n"
                            for i in range(rows)))
    return path


# -- Ray available and startable? ------------------------------------------------------------------------
def _ray_problem() -> str | None:
    try:
        import ray  # noqa: F401
        import ray.data  # noqa: F401
    except ImportError as error:
        return f"Ray is not installed ({error}); install the extra: pip install -e '.[cluster]'"
    probe = textwrap.dedent("""
        from services.analyse.cluster import RaySession
        session = RaySession("local")
        print(session.describe())
        session.close()
    """)
    try:
        with tempfile.TemporaryDirectory(prefix="wb-ray-probe-") as home:
            done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=cli_env(HOME=home), capture_output=True,
                                  text=True, timeout=240)
    except subprocess.TimeoutExpired:
        return "a local Ray instance did not start within 240 s"
    if done.returncode != 0:
        return f"a local Ray instance on 127.0.0.1 cannot start here: {done.stderr.strip().splitlines()[-1:]}"
    return None


@pytest.fixture(scope="session")
def local_ray():
    """Skip (with the reason in the warnings summary) where Ray is missing or cannot start; CI sets
    WORKBENCH_REQUIRE_RAY=1 so that there the same problem fails instead."""
    problem = _ray_problem()
    if problem and os.environ.get("WORKBENCH_REQUIRE_RAY") == "1":
        pytest.fail(f"WORKBENCH_REQUIRE_RAY=1 but {problem}")
    if problem:
        warnings.warn(f"tests/test_cluster.py: Ray tests skipped: {problem}")
        pytest.skip(problem)


needs_ray = pytest.mark.usefixtures("local_ray")


# -- without Ray ------------------------------------------------------------------------------------------
def test_batch_scorer_scores_a_batch_as_the_local_run_does(tmp_path, capsys, tiny_classifier, one_torch_thread):
    """The actor class is plain Python: called on a batch of columns it returns the local run's rows."""
    from services.analyse.scorer import BatchScorer, records_to_columns
    from services.core.files import collect_files, scan_files
    from services.core.readers import ReadOptions, iter_records

    folder = make_inputs(tmp_path / "docs", lines=12)
    expected = local_rows(capsys, tmp_path, "local", folder, "--task", "text-classification", "--model",
                          tiny_classifier)
    paths, warnings_ = collect_files([str(folder)])
    files, _ = scan_files(paths)
    records = list(iter_records(files, ReadOptions(), warnings_))
    scorer = BatchScorer(str(tiny_classifier), "text-classification", threads=1)
    out = scorer(records_to_columns(records))
    assert sorted(out) == ["actor", "engine", "file", "index", "row", "seconds"]
    rows = sorted((json.loads(text) for text in out["row"]), key=lambda r: [r["id"] for r in expected].index(r["id"]))
    assert_same_results(expected, rows)
    assert any("empty" in r["flags"] for r in rows) and any("truncated" in r["flags"] for r in rows)


def test_batch_scorer_names_a_missing_model_folder(tmp_path):
    from services.analyse.scorer import BatchScorer
    from services.core.errors import InputError

    missing = tmp_path / "models" / "not-here"
    with pytest.raises(InputError, match=f"'{missing}' does not exist on worker node"):
        BatchScorer(str(missing), "text-classification")


def test_batch_scorer_refuses_a_worker_copy_with_other_weights(tmp_path, tiny_classifier, tiny_ner):
    from services.analyse.manifest import weights_sha256
    from services.analyse.scorer import BatchScorer
    from services.core.errors import InputError
    from services.core.model_info import inspect_model

    info = inspect_model(tiny_classifier)
    with pytest.raises(InputError, match="holds other weights"):
        BatchScorer(str(tiny_ner), "token-classification", weights_sha256=weights_sha256(info.path, info.weight_files),
                    weight_files=info.weight_files, driver_model=str(tiny_classifier))


NO_RAY_SHIM = '''
import importlib.abc, sys
class _NoRay(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "ray" or name.startswith("ray."):
            raise ModuleNotFoundError(f"No module named '{name}'", name=name)
        return None
sys.meta_path.insert(0, _NoRay())
'''


@pytest.fixture
def no_ray_env(tmp_path):
    shim = tmp_path / "no-ray"
    shim.mkdir()
    (shim / "sitecustomize.py").write_text(NO_RAY_SHIM)
    env = cli_env(PYTHONPATH=os.pathsep.join([str(shim), str(ROOT)]))
    check = subprocess.run([sys.executable, "-c", "import ray"], env=env, capture_output=True, text=True)
    assert check.returncode != 0 and "No module named 'ray'" in check.stderr, "the shim did not hide Ray"
    return env


def test_without_ray_the_flag_says_how_to_install_and_exits_2(tmp_path, no_ray_env, tiny_classifier):
    data = tmp_path / "a.txt"
    data.write_text("fine\nbroken\n")
    done = run_analyse(data, "--task", "text-classification", "--model", tiny_classifier, "--ray", "local",
                       env=no_ray_env)
    assert done.returncode == 2, done.stderr
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("error: --ray needs Ray Data, which is not installed")
    assert "pip install 'transformers-workbench[cluster]'" in last and "Traceback" not in done.stderr
    imported = subprocess.run([sys.executable, "-c", "import services.analyse.cluster"], cwd=ROOT, env=no_ray_env,
                              capture_output=True, text=True)
    assert imported.returncode != 0
    assert "InputError: --ray needs Ray Data" in imported.stderr and "pip install" in imported.stderr
    # the base path does not need Ray: the same analysis without --ray works
    out = tmp_path / "out.jsonl"
    done = run_analyse(data, "--task", "text-classification", "--model", tiny_classifier, "--out", out,
                       env=no_ray_env)
    assert done.returncode == 0, done.stderr
    assert len(read_rows(out)) == 2


def test_the_gui_and_the_base_cli_never_import_ray():
    code = textwrap.dedent("""
        import sys
        import main, cli, cli.analyse, gui.app, gui.analyse.panel, services.analyse.run
        loaded = sorted(m for m in sys.modules if m == "ray" or m.startswith("ray.") or m.endswith(".cluster"))
        print(loaded)
        sys.exit(1 if loaded else 0)
    """)
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=cli_env(QT_QPA_PLATFORM="offscreen"),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr


# -- with a local Ray ---------------------------------------------------------------------------------------
@needs_ray
def test_ner_via_ray_local_matches_the_local_engine(tmp_path, capsys, tiny_ner):
    folder = make_inputs(tmp_path / "docs")
    expected = local_rows(capsys, tmp_path, "local", folder, "--task", "token-classification", "--model", tiny_ner)
    out = tmp_path / "ray.jsonl"
    done = run_analyse(folder, "--task", "token-classification", "--model", tiny_ner, "--out", out, "--ray", "local",
                       "--ray-cpus-per-actor", "1", "--ray-block-rows", "8")
    assert done.returncode == 0, done.stderr
    assert_same_results(expected, read_rows(out))
    manifest = json.loads((tmp_path / "ray.manifest.json").read_text())
    local_manifest = json.loads((tmp_path / "local.manifest.json").read_text())
    assert set(local_manifest) | {"cluster"} == set(manifest)
    assert manifest["run_key"] == local_manifest["run_key"] and manifest["counts"]["records"] == len(expected)
    cluster = manifest["cluster"]
    assert cluster["address"] == "local" and cluster["node_addresses"] == ["127.0.0.1"] and cluster["cpus"] >= 1
    assert cluster["actor_pool"]["cpus_per_actor"] == 1 and cluster["actor_pool"]["max_size"] == cluster["cpus"]
    assert sum(a["rows"] for a in cluster["actors"]) == len(expected)
    assert all(a["rows_per_s"] > 0 for a in cluster["actors"])
    assert "records →" in done.stderr and "rec/s" in done.stderr


@needs_ray
def test_embedding_zero_shot_via_ray_local_with_the_model_shipped_matches(tmp_path, capsys, tiny_encoder):
    folder = make_inputs(tmp_path / "docs")
    args = ("--task", "zero-shot-classification", "--model", tiny_encoder, "--labels", "travel, business, complaint")
    expected = local_rows(capsys, tmp_path, "local", folder, *args)
    out = tmp_path / "ray.jsonl"
    done = run_analyse(folder, *args, "--out", out, "--ray", "local", "--ray-ship-model", "--ray-block-rows", "16")
    assert done.returncode == 0, done.stderr
    rows = read_rows(out)
    assert_same_results(expected, rows)
    scored = [r for r in rows if "labels" in r]  # (an empty text gets no scores)
    assert len(scored) == len(rows) - 1 and {r["method"] for r in scored} == {"embedding"}
    assert all(len(r["cosines"]) == 3 for r in scored)
    manifest = json.loads((tmp_path / "ray.manifest.json").read_text())
    assert manifest["cluster"]["model_on_workers"] == "shipped with the job"


@needs_ray
def test_classification_via_ray_local_survives_a_killed_worker(tmp_path, capsys, tiny_classifier):
    import psutil

    data = big_input(tmp_path, rows=1500)
    expected = local_rows(capsys, tmp_path, "local", data, "--task", "text-classification", "--model",
                          tiny_classifier)
    out = tmp_path / "ray.jsonl"
    proc = subprocess.Popen(analyse_cmd(data, "--task", "text-classification", "--model", tiny_classifier,
                                        "--out", out, "--ray", "local", "--ray-cpus-per-actor", "1",
                                        "--batch-size", "1", "--ray-block-rows", "32"),
                            cwd=ROOT, env=cli_env(), stderr=subprocess.PIPE, start_new_session=True)
    try:
        seen = wait_for_rows(proc)
        done_then = int(re.findall(rb"([\d,]+) / [\d,]+ records", seen)[-1].replace(b",", b""))
        actors = [p for p in psutil.Process(proc.pid).children(recursive=True)
                  if "MapBatches(_ActorScorer)" in p.name()]
        busy = [p for p in actors if p.name().endswith(".submit")] or actors
        assert busy, "no scorer actor process found"
        busy[0].kill()  # SIGKILL, mid-job: Ray restarts the actor and runs its batch again
        rest = proc.stderr.read()
        assert proc.wait(timeout=600) == 0, (seen + rest).decode(errors="replace")[-3000:]
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert done_then < len(expected), "the job finished before the worker was killed: use more rows"
    assert_same_results(expected, read_rows(out))
    manifest = json.loads((tmp_path / "ray.manifest.json").read_text())
    assert manifest["counts"]["records"] == manifest["counts"]["new"] == len(expected)
    assert sum(a["rows"] for a in manifest["cluster"]["actors"]) >= len(expected)


def wait_for_rows(proc) -> bytes:
    """Read the CLI's stderr until its progress line shows scored rows; return what was read."""
    seen = b""
    while True:
        chunk = proc.stderr.read1(4096)
        assert chunk, f"the run ended before any rows were scored:\n{seen.decode(errors='replace')[-3000:]}"
        seen += chunk
        tail = seen.rsplit(b"Loading the model", 1)[-1]
        if b" records \xc2\xb7 " in tail and b"actor(s)" in tail:
            return seen


def still_running(processes, timeout: float = 60) -> list:
    """Those of ``processes`` still running after ``timeout`` s (a zombie awaiting its reaper is not)."""
    import psutil

    alive = psutil.wait_procs(processes, timeout=timeout)[1]
    running = []
    for process in alive:
        try:
            if process.status() != psutil.STATUS_ZOMBIE:
                running.append(process)
        except psutil.NoSuchProcess:
            pass
    return running


def listening_addresses(processes) -> set:
    """The addresses ``processes`` accept connections on (IPv4-mapped IPv6 read as IPv4)."""
    import ipaddress

    import psutil

    addresses = set()
    for process in processes:
        try:
            for connection in process.net_connections(kind="inet"):
                if connection.status == psutil.CONN_LISTEN:
                    address = ipaddress.ip_address(connection.laddr.ip.split("%")[0])
                    addresses.add(getattr(address, "ipv4_mapped", None) or address)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            pass
    return addresses


@needs_ray
def test_ctrl_c_stops_ray_leaves_no_process_and_resume_completes(tmp_path, capsys, tiny_classifier):
    import psutil

    data = big_input(tmp_path, rows=1200)
    expected = local_rows(capsys, tmp_path, "local", data, "--task", "text-classification", "--model",
                          tiny_classifier)
    out = tmp_path / "ray.jsonl"
    args = (data, "--task", "text-classification", "--model", tiny_classifier, "--out", out, "--ray", "local",
            "--ray-cpus-per-actor", "1", "--batch-size", "1", "--ray-block-rows", "32")
    proc = subprocess.Popen(analyse_cmd(*args), cwd=ROOT, env=cli_env(), stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        seen = wait_for_rows(proc)
        ours = psutil.Process(proc.pid).children(recursive=True)
        names = {p.name() for p in ours}
        assert "raylet" in names and "gcs_server" in names, names
        listening = listening_addresses(ours)
        assert listening and all(a.is_loopback for a in listening), f"Ray listens beyond loopback: {listening}"
        os.killpg(proc.pid, signal.SIGINT)  # Ctrl+C in a terminal: the whole foreground group
        rest = proc.stderr.read()
        code = proc.wait(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    err = (seen + rest).decode(errors="replace")
    assert code == 130 and err.strip().splitlines()[-1] == "cancelled", err[-3000:]
    left = still_running(ours)
    assert not left, f"Ray processes left behind: {[(p.pid, p.name()) for p in left]}"
    partial = out.with_name(out.name + ".partial.jsonl")
    kept = len(partial.read_text().splitlines()) - 1
    assert 0 < kept < len(expected)
    done = run_analyse(*args, "--resume")
    assert done.returncode == 0, done.stderr
    assert_same_results(expected, read_rows(out))
    manifest = json.loads((tmp_path / "ray.manifest.json").read_text())
    assert manifest["counts"]["resumed"] == kept and manifest["counts"]["new"] == len(expected) - kept
    scored = sum(a["rows"] for a in manifest["cluster"]["actors"])
    assert scored == len(expected) - kept, f"the resumed run scored {scored} records again, not only the rest"


@needs_ray
def test_a_model_folder_missing_on_the_workers_is_named(tmp_path, tiny_classifier):
    data = tmp_path / "a.txt"
    data.write_text("fine\nbroken\n")
    elsewhere = tmp_path / "mnt" / "models" / "classifier"
    started = time.monotonic()
    done = run_analyse(data, "--task", "text-classification", "--model", tmp_path / "nowhere", "--ray", "local")
    assert done.returncode == 2 and f"'{tmp_path / 'nowhere'}' does not exist" in done.stderr
    assert "Starting Ray" not in done.stderr, "a model missing here is refused before Ray starts"
    assert time.monotonic() - started < 120
    # in one process, as a library: the error from the workers, and Ray stopped before it reached us
    script = textwrap.dedent(f"""
        import json, psutil, ray
        from services.analyse.cluster import ClusterOptions, analyse_on_ray
        from services.analyse.run import AnalyseRequest
        from services.core.errors import InputError
        request = AnalyseRequest(paths=[{str(data)!r}], task="text-classification", model={str(tiny_classifier)!r})
        try:
            analyse_on_ray(request, {str(tmp_path / "out.jsonl")!r},
                           cluster=ClusterOptions("local", worker_model={str(elsewhere)!r}))
            error = None
        except InputError as caught:
            error = str(caught)
        left = sorted(p.name() for p in psutil.Process().children(recursive=True))
        print(json.dumps({{"error": error, "initialized": ray.is_initialized(), "children": left}}))
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=cli_env(), capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr  # one error, said once
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["error"].startswith(f"The model folder '{elsewhere}' does not exist on worker node"), report
    assert "same path" in report["error"] and "--ray-ship-model" in report["error"]
    assert not report["initialized"] and not report["children"], f"Ray left running after the error: {report}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@needs_ray
def test_auto_joins_a_head_node_started_on_loopback(tmp_path, capsys, tiny_classifier):
    """The README's commands: ``ray start --head`` on 127.0.0.1, then ``analyse --ray auto``."""
    import psutil

    ray_cli = Path(sys.executable).with_name("ray")
    if not ray_cli.exists():
        pytest.skip(f"no 'ray' command beside {sys.executable}")
    folder = make_inputs(tmp_path / "docs", lines=20)
    args = (folder, "--task", "text-classification", "--model", tiny_classifier)
    expected = local_rows(capsys, tmp_path, "local", *args)
    loopback = cli_env(RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER="0")
    nobody = run_analyse(*args, "--ray", "auto", env={**loopback, "RAY_ADDRESS": f"127.0.0.1:{free_port()}"})
    assert nobody.returncode == 2 and "error: Nothing answers at 127.0.0.1:" in nobody.stderr, nobody.stderr
    port = free_port()
    head = subprocess.Popen([str(ray_cli), "start", "--head", "--block", "--node-ip-address=127.0.0.1",
                             f"--port={port}", "--include-dashboard=false", "--disable-usage-stats", "--num-cpus=2"],
                            cwd=tmp_path, env=loopback, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)
    try:
        for line in head.stdout:  # "Ray runtime started." once the head is up
            if b"Ray runtime started" in line:
                break
        else:
            pytest.fail(f"the head node did not start (exit {head.wait()})")
        out = tmp_path / "auto.jsonl"
        done = run_analyse(*args, "--out", out, "--ray", "auto", "--ray-cpus-per-actor", "1",
                           env={**loopback, "RAY_ADDRESS": f"127.0.0.1:{port}"})
        assert done.returncode == 0, done.stderr
        assert_same_results(expected, read_rows(out))
        cluster = json.loads((tmp_path / "auto.manifest.json").read_text())["cluster"]
        assert cluster["address"] == "auto" and cluster["node_addresses"] == ["127.0.0.1"] and cluster["cpus"] == 2
        processes = psutil.Process(head.pid).children(recursive=True)
        assert "raylet" in {p.name() for p in processes}, "the run stopped the head node's Ray (it must only leave)"
    finally:
        processes = psutil.Process(head.pid).children(recursive=True) if head.poll() is None else []
        head.terminate()  # the head's own Ctrl+C: `ray start --block` stops what it started
        head.wait(timeout=120)
        left = still_running(processes)
    assert not left, f"head node processes left behind: {[(p.pid, p.name()) for p in left]}"
