"""Run ``guichet serve`` as a real subprocess on 127.0.0.1 for end-to-end tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.support.services import free_port

ROOT = Path(__file__).resolve().parents[2]


class GuichetServer:
    def __init__(self, workdir: Path, *, embedder: str = "sentence-transformers", **env: str) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "GUICHET_SERVER_PORT": str(self.port),
            "GUICHET_SERVER_HOST": "127.0.0.1",
            "GUICHET_SERVER_DATA_DIR": str(workdir / "data"),
            "GUICHET_KB_SOURCE_DIR": str(ROOT / "examples" / "kb"),
            "GUICHET_KB_EMBEDDER": embedder,
            "GUICHET_KB_RELOAD_INTERVAL": "0.5",
            "GUICHET_JOBS_POLL_INTERVAL": "0.1",
            **env,
        }
        self.proc: subprocess.Popen[str] | None = None
        self.log_path = workdir / "server.log"

    def cli(self, *args: str, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "gateway.cli", *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=300,
            env={**self.env, **env},
            cwd=ROOT,
            check=False,
        )

    def start(self, timeout: float = 120.0, **env: str) -> GuichetServer:
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("a")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gateway.cli", "serve", "--index-if-missing"],
            stdout=log,
            stderr=subprocess.STDOUT,
            text=True,
            env={**self.env, **env},
            cwd=ROOT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}:\n{self.output()}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/readyz", timeout=1) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.2)
        self.kill()
        raise TimeoutError(f"server not ready after {timeout}s:\n{self.output()}")

    def output(self) -> str:
        return self.log_path.read_text() if self.log_path.exists() else ""

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs, as in a crash."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> int | None:
        """SIGTERM: graceful shutdown."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()
        return self.proc.returncode if self.proc else None

    def add_user(self, name: str, password: str, role: str = "operator") -> None:
        done = self.cli("user", "add", name, "--role", role, "--password-stdin", stdin=password + "\n")
        assert done.returncode == 0, done.stderr
