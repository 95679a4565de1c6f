"""The kit as a user installs it: the built wheel, fresh virtualenvs outside the clone, its commands.

The tests of the package and of the CI recipes start here. They never import the kit from the
clone: everything runs in a subprocess of a fresh virtualenv, with a temporary directory as its
working directory and no PYTHONPATH, as in another repository.

The wheel is `$MEIBEL_KIT_WHEEL` when set (`.ci/run` builds and checks it first), else one built
once per session from the working tree. Dependencies come from a wheelhouse filled once per
session by `pip wheel` (the one step that may reach the package registry, through pip's cache);
every install after that is `--no-index` from it, so each fresh virtualenv costs seconds and no
network.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
WHEEL_ENV = "MEIBEL_KIT_WHEEL"
DIST_NAME = "meibel-contract-kit"
# What the wheelhouse holds beyond the kit's own dependencies: what the SDK team's repository
# installs beside it, and the build backend that a git URL or a source directory is built with.
# pip itself: pipx puts it in the shared virtualenv it makes.
EXTRA_WHEELS = ("pytest", "meibel", "hatchling", "pip")
INSTALL_TIMEOUT = 600.0
# Variables of the developer's or CI's shell that would make a subprocess see the clone or
# another environment instead of the fresh one.
_LEAKY = (
    "PYTHONPATH",
    "PYTHONHOME",
    "PYTHONSTARTUP",
    "VIRTUAL_ENV",
    "PYTEST_ADDOPTS",
    "PIP_REQUIRE_VIRTUALENV",
)


def run(
    args: Sequence[str | Path],
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    timeout: float = INSTALL_TIMEOUT,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=dict(env) if env is not None else None,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"{' '.join(str(a) for a in args)} exited {result.returncode}\n"
            f"--- stdout\n{result.stdout[-4000:]}\n--- stderr\n{result.stderr[-4000:]}"
        )
    return result


def kit_wheel(scratch: Path) -> Path:
    """The wheel to install: `$MEIBEL_KIT_WHEEL`, else one built from the working tree into `scratch`."""
    given = os.environ.get(WHEEL_ENV)
    if given:
        wheel = Path(given)
        assert wheel.is_file() and wheel.suffix == ".whl", f"{WHEEL_ENV}={given} is not a wheel"
        return wheel
    run([sys.executable, "-m", "build", "--wheel", "--outdir", scratch, ROOT], cwd=scratch)
    [wheel] = scratch.glob("*.whl")
    return wheel


def fill_wheelhouse(wheel: Path, house: Path) -> Path:
    """Every wheel a fresh install of the kit (all extras) and of the SDK team's tools needs."""
    house.mkdir(parents=True, exist_ok=True)
    run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--wheel-dir",
            house,
            f"{wheel}[contract]",
            *EXTRA_WHEELS,
        ],
        cwd=house,
        env=clean_env(),
    )
    # The wheelhouse stands for the package index, which has no kit: an install line that names
    # the kit without its URL must fail here as it fails for users ("No matching distribution").
    for kit in house.glob("meibel_contract_kit-*.whl"):
        kit.unlink()
    return house


def clean_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _LEAKY}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env.update(extra or {})
    return env


def offline_pip(house: Path) -> dict[str, str]:
    """pip's settings for an install from the wheelhouse alone (no index, no network). Build
    isolation's own pip inherits them, so a git URL builds with the wheelhouse's hatchling."""
    return {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(house)}


@dataclass(frozen=True)
class Venv:
    root: Path
    house: Path

    @property
    def bin(self) -> Path:
        return self.root / "bin"

    def env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        """A shell of this virtualenv: its bin/ first on PATH, pip offline from the wheelhouse."""
        env = clean_env({**offline_pip(self.house), "VIRTUAL_ENV": str(self.root)})
        env["PATH"] = f"{self.bin}{os.pathsep}{_path_without_dev_venv()}"
        env.update(extra or {})
        return env

    def pip_install(self, *requirements: str, cwd: Path) -> None:
        run([self.bin / "python", "-m", "pip", "install", "--quiet", *requirements], cwd=cwd, env=self.env())

    def run(
        self, *args: str | Path, cwd: Path, env: Mapping[str, str] | None = None, timeout: float = 300.0
    ) -> subprocess.CompletedProcess[str]:
        command = [self.bin / args[0], *args[1:]] if (self.bin / str(args[0])).exists() else list(args)
        return run(command, cwd=cwd, env=self.env(env), timeout=timeout, check=False)


def make_venv(root: Path, house: Path) -> Venv:
    """A fresh virtualenv of the interpreter the tests run on (its base, not the dev virtualenv)."""
    run([sys.executable, "-m", "venv", root], cwd=root.parent, env=clean_env())
    return Venv(root, house)


def _path_without_dev_venv() -> str:
    """PATH less the developer's virtualenv, so that a recipe's `pip` or `meibel-contract` can
    only be the fresh one's."""
    dev = Path(sys.executable).parent
    return os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep) if p and Path(p) != dev)


def requirement(kit_url: str, extras: str = "[contract]") -> str:
    return f"{DIST_NAME}{extras} @ {kit_url}"


def git(*args: str | Path, cwd: Path) -> str:
    env = clean_env(
        {
            "GIT_AUTHOR_NAME": "Test",
            "GIT_AUTHOR_EMAIL": "test@example.invalid",
            "GIT_COMMITTER_NAME": "Test",
            "GIT_COMMITTER_EMAIL": "test@example.invalid",
            "GIT_CONFIG_NOSYSTEM": "1",
            "HOME": str(cwd),
        }
    )
    return run(["git", *args], cwd=cwd, env=env, timeout=120).stdout


def tagged_clone(into: Path, tag: str) -> str:
    """A clone of this repository's HEAD (committed work only, as CI's clean clone has it), tagged;
    returns its `git+file://` URL at that tag."""
    git("clone", "--quiet", "--no-hardlinks", ROOT, into, cwd=into.parent)
    git("tag", tag, cwd=into)
    # file://localhost/…, not file:///…: the pip that Python 3.11 bundles (23.2) refuses a git+file
    # URL without a host ("Invalid URL"); git and every pip take this form.
    return f"git+file://localhost{into.as_posix()}@{tag}"


def action_checkout(into: Path) -> Path:
    """What GitHub downloads for `uses: org/meibel-contract-kit@tag`: the repository's files, here
    taken from the working tree (tracked and new, not ignored), so uncommitted edits are tested."""
    listed = git("ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=ROOT)
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (into / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, into / name)
    return into


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_mock(venv: Venv, cwd: Path, *args: str) -> Iterator[str]:
    """`meibel-mock` of the virtualenv on a free port; yields its origin, stops it with Ctrl-C."""
    port = free_port()
    process = subprocess.Popen(
        [str(venv.bin / "meibel-mock"), "--port", str(port), *args],
        cwd=cwd,
        env=venv.env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    origin = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(origin + "/openapi.json", timeout=1)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    process.kill()
                    _, err = process.communicate(timeout=10)
                    raise AssertionError(f"meibel-mock did not start: {err[-2000:]}") from None
                time.sleep(0.1)
        yield origin
    finally:
        if process.poll() is None:
            process.send_signal(2)  # SIGINT, as Ctrl-C
            try:
                process.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.communicate(timeout=10)
