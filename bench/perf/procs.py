"""Start a bench server module as a subprocess (like production: its own process)
and wait for its ``READY <port>`` line; stop it with SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from pathlib import Path
from types import TracebackType

from bench.perf.options import ROOT
from bench.perf.serving import READY

OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}


class ServerProcess:
    """``python -m <module> <args>`` on 127.0.0.1; its stderr goes to ``log_path``."""

    def __init__(self, module: str, args: list[str], log_path: Path, *, timeout: float = 180.0) -> None:
        self.module = module
        self.args = args
        self.log_path = log_path
        self.timeout = timeout
        self.port = 0
        self._proc: asyncio.subprocess.Process | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text("utf-8", "replace").splitlines()[-lines:])
        except OSError:
            return ""

    async def start(self) -> int:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self._proc = await asyncio.create_subprocess_exec(
                sys.executable, "-m", self.module, *self.args,
                stdout=asyncio.subprocess.PIPE, stderr=log, cwd=ROOT,
                env={**os.environ, **OFFLINE_ENV},
            )
        assert self._proc.stdout is not None
        try:
            async with asyncio.timeout(self.timeout):
                while True:
                    line = (await self._proc.stdout.readline()).decode().strip()
                    if line.startswith(READY):
                        self.port = int(line.split()[1])
                        return self.port
                    if not line and self._proc.stdout.at_eof():
                        code = await self._proc.wait()
                        raise RuntimeError(f"{self.module} exited with {code}:\n{self.log_tail()}")
        except TimeoutError:
            await self.stop()
            tail = self.log_tail()
            raise RuntimeError(f"{self.module} not ready after {self.timeout} s:\n{tail}") from None

    async def stop(self) -> None:
        proc = self._proc
        if proc is None or proc.returncode is not None:
            return
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), 20)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()

    async def __aenter__(self) -> ServerProcess:
        await self.start()
        return self

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        await self.stop()
