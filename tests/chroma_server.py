"""A real `chroma run` server on a free loopback port, stoppable and restartable on the same
data (what a studio's head node runs; the tests stop it to prove ingest survives)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import httpx


class ChromaServer:
    def __init__(self, path: Path, port: int):
        self.path, self.port = path, port
        self.url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen | None = None
        self.log = path.parent / f"chroma-{port}.log"

    def start(self, timeout: float = 60) -> "ChromaServer":
        exe = Path(sys.executable).parent / "chroma"
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen([str(exe), "run", "--path", str(self.path), "--host", "127.0.0.1",
                                          "--port", str(self.port)], stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/api/v2/heartbeat", timeout=1).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            if self.proc.poll() is not None:
                raise RuntimeError(f"chroma run exited: {self.log.read_text()[-2000:]}")
            time.sleep(0.1)
        raise TimeoutError(f"chroma run did not answer on {self.url}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None
