"""Build the one-folder app: ``python3 packaging/build.py``.

1. Makes (or reuses) a virtual environment of its own, ``build/venv``, holding only the app's
   dependencies from ``pyproject.toml`` plus PyInstaller. Nothing stray from a developer's venv is
   collected, and transformers finds exactly the packages it checks at import. The venv is reused
   while the hash of its requirements (and of this Python) is unchanged.
2. Runs PyInstaller on ``packaging/workbench.spec`` → ``dist/TransformersWorkbench/`` with the
   executable ``transformers-workbench`` (``.exe`` on Windows).
3. Packs ``dist/TransformersWorkbench-<version>-<os>-<arch>.tar.gz`` (``.zip`` on Windows/macOS).
4. Prints the bundle size, the five largest contributors and the build time.

Options: ``--clean`` (new venv and PyInstaller work folder), ``--no-archive``, ``--venv-only``.
``WORKBENCH_BUILD_PIP_ARGS`` adds pip arguments (e.g. an index with CPU-only torch wheels: an
unpinned torch from PyPI on Linux is the multi-GB CUDA build).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
import tarfile
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "build"
VENV = BUILD / "venv"
DIST = ROOT / "dist"
APP_NAME = "TransformersWorkbench"
EXE_NAME = "transformers-workbench"
SPEC = ROOT / "packaging" / "workbench.spec"
BUILD_TOOLS = ["pyinstaller==6.22.3", "pyinstaller-hooks-contrib==2026.9"]
HASH_FILE = ".workbench-requirements.sha256"
# Shipped with their symbol tables (.symtab, for debuggers), which the dynamic linker never reads:
# ``strip --strip-unneeded`` takes ~120 MB off (libtorch_cpu.so alone 434 → 345 MB). Never the
# executable itself: PyInstaller appends the Python archive to it.
STRIP_PATTERNS = ("torch/lib/libtorch_cpu.so", "torch/lib/libtorch_python.so", "torch/lib/libc10.so",
                  "libpython3*.so*", "tokenizers/tokenizers*.so")


def project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def requirements() -> list[str]:
    return list(project()["dependencies"]) + BUILD_TOOLS


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def run(command: list[str], **kwargs) -> None:
    print("+", " ".join(shlex.quote(str(c)) for c in command), flush=True)
    subprocess.run([str(c) for c in command], check=True, **kwargs)


def ensure_venv(clean: bool) -> None:
    reqs = requirements()
    extra = shlex.split(os.environ.get("WORKBENCH_BUILD_PIP_ARGS", ""))
    digest = hashlib.sha256(json.dumps([reqs, extra, sys.version, platform.machine()]).encode()).hexdigest()
    stamp = VENV / HASH_FILE
    if not clean and venv_python().exists() and stamp.is_file() and stamp.read_text().strip() == digest:
        print(f"build venv: reusing {VENV} (requirements unchanged)")
        return
    if VENV.is_symlink():
        VENV.unlink()
    elif VENV.exists():
        shutil.rmtree(VENV)
    run([sys.executable, "-m", "venv", VENV])
    # The app's dependencies only: the app itself is collected from this source tree, not installed.
    run([venv_python(), "-m", "pip", "install", "--no-input", *extra, *reqs])
    stamp.write_text(digest + "\n")


def strip_libraries(bundle: Path) -> int:
    """Strip the symbol tables of the largest libraries (Linux, where ``strip`` exists); bytes saved."""
    strip = shutil.which("strip")
    if not sys.platform.startswith("linux") or strip is None:
        print("strip: skipped (not Linux, or binutils' strip is not installed)")
        return 0
    saved = 0
    for pattern in STRIP_PATTERNS:
        for library in (bundle / "_internal").glob(pattern):
            if library.is_symlink() or not library.is_file():
                continue
            before = library.stat().st_size
            subprocess.run([strip, "--strip-unneeded", str(library)], check=True)
            saved += before - library.stat().st_size
    print(f"strip: {mb(saved)} of symbol tables removed")
    return saved


def add_desktop_files(bundle: Path) -> None:
    """Linux: share/ beside the executable holds the .desktop entry, the icon and their installer."""
    if not sys.platform.startswith("linux"):
        return
    share = bundle / "share"
    share.mkdir(exist_ok=True)
    shutil.copy2(ROOT / "packaging" / "linux" / "transformers-workbench.desktop", share)
    shutil.copy2(ROOT / "packaging" / "linux" / "install-desktop-entry.sh", share)
    shutil.copy2(ROOT / "resources" / "icons" / "transformers-workbench-256.png", share / "transformers-workbench.png")


def folder_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def contributors(bundle: Path, count: int = 5) -> list[tuple[str, int]]:
    """Sizes of the top-level entries under _internal (a package or a shared library each) and the executable."""
    internal = bundle / "_internal"
    sizes: dict[str, int] = {}
    for exe in bundle.glob(EXE_NAME + "*"):
        sizes[f"{exe.name} (bootloader + the compiled Python modules)"] = exe.stat().st_size
    for entry in internal.iterdir():
        if entry.is_symlink():
            continue
        sizes[entry.name] = folder_size(entry) if entry.is_dir() else entry.stat().st_size
    return sorted(sizes.items(), key=lambda item: -item[1])[:count]


def platform_tag() -> str:
    system = {"linux": "linux", "win32": "windows", "darwin": "macos"}.get(sys.platform, sys.platform)
    machine = platform.machine().lower().replace("amd64", "x86_64").replace("arm64", "aarch64")
    return f"{system}-{machine}"


def make_archive(bundle: Path, version: str) -> Path:
    base = DIST / f"{APP_NAME}-{version}-{platform_tag()}"
    if sys.platform.startswith("linux"):
        archive = base.with_name(base.name + ".tar.gz")
        with tarfile.open(archive, "w:gz", compresslevel=6) as tar:
            tar.add(bundle, arcname=APP_NAME)
        return archive
    return Path(shutil.make_archive(str(base), "zip", root_dir=DIST, base_dir=APP_NAME))


def mb(size: int) -> str:
    return f"{size / 1e6:,.0f} MB"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the one-folder Transformers Workbench app.")
    parser.add_argument("--clean", action="store_true", help="new build venv and PyInstaller work folder")
    parser.add_argument("--no-archive", action="store_true", help="skip the release archive")
    parser.add_argument("--venv-only", action="store_true", help="only make the build venv")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    version = project()["version"]
    ensure_venv(args.clean)
    venv_done = time.perf_counter()
    if args.venv_only:
        print(f"build venv ready in {venv_done - started:.0f} s")
        return 0
    bundle = DIST / APP_NAME
    work = BUILD / "pyinstaller"
    if args.clean and work.exists():
        shutil.rmtree(work)
    # PYTHONWARNINGS: the hooks import every torch submodule, each deprecated one warns; not our concern
    env = dict(os.environ, PYTHONNOUSERSITE="1", WORKBENCH_VERSION=version, PYTHONWARNINGS="ignore::DeprecationWarning")
    env.pop("PYTHONPATH", None)
    run([venv_python(), "-m", "PyInstaller", SPEC, "--noconfirm", *(["--clean"] if args.clean else []), "--log-level", "WARN",
         "--distpath", DIST, "--workpath", work], cwd=ROOT, env=env)
    frozen = time.perf_counter()
    exe = bundle / (EXE_NAME + (".exe" if os.name == "nt" else ""))
    if not exe.is_file():
        print(f"build failed: {exe} was not made", file=sys.stderr)
        return 1
    strip_libraries(bundle)
    add_desktop_files(bundle)
    archive = None if args.no_archive else make_archive(bundle, version)
    finished = time.perf_counter()

    total = folder_size(bundle)
    print(f"\nbundle: {exe}")
    print(f"size unpacked: {mb(total)} ({total:,} bytes)")
    print("largest contributors:")
    for name, size in contributors(bundle):
        print(f"  {mb(size):>9}  {100 * size / total:4.1f} %  {name}")
    if archive is not None:
        print(f"archive: {archive} ({mb(archive.stat().st_size)})")
    print(f"build time: {finished - started:.0f} s (venv {venv_done - started:.0f} s, PyInstaller "
          f"{frozen - venv_done:.0f} s, archive {finished - frozen:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
