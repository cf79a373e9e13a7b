"""Server processes for the bench: the real one (`hackatime serve`) and the ingest floor app,
both uvicorn on loopback, each timed from process start to its first 200 answer."""

from __future__ import annotations

import base64
import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def basic_auth(key: str) -> dict[str, str]:
    # What wakatime-cli sends: the key alone, base64-encoded.
    return {"Authorization": "Basic " + base64.b64encode(key.encode()).decode()}


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    log_path: Path
    # Seconds from spawning the process to its first 200 answer.
    ready_after: float

    def _status_kb(self, field: str) -> int:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith(f"{field}:"):
                return int(line.split()[1])
        raise LookupError(f"{field} not in /proc/{self.process.pid}/status")

    def rss_kb(self) -> int:
        return self._status_kb("VmRSS")

    def peak_kb(self) -> int:
        return self._status_kb("VmHWM")

    def reset_peak(self) -> bool:
        """Start VmHWM again from the current RSS (5 > /proc/PID/clear_refs); False when the
        kernel refuses, and the peak then counts from the process start."""
        try:
            Path(f"/proc/{self.process.pid}/clear_refs").write_text("5")
        except OSError:
            return False
        return True

    def connection(self) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(HOST, self.port, timeout=120)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start(
    argv: list[str], port: int, log_path: Path, ready_path: str, headers: dict[str, str]
) -> Server:
    """Spawn a server and wait for a 200 on `ready_path`, polling every 5 ms."""
    env = {name: value for name, value in os.environ.items() if not name.startswith("HACKATIME_")}
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("wb") as log:
        started = time.perf_counter()
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, cwd=REPO, env=env)
    server = Server(process, port, log_path, 0.0)
    deadline = started + 60
    while time.perf_counter() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{argv} exited with {process.returncode}; see {log_path}")
        try:
            conn = http.client.HTTPConnection(HOST, port, timeout=5)
            conn.request("GET", ready_path, headers=headers)
            status = conn.getresponse().status
            conn.close()
        except OSError:
            time.sleep(0.005)
            continue
        if status == 200:
            server.ready_after = time.perf_counter() - started
            return server
        raise RuntimeError(f"{ready_path} answered {status}; see {log_path}")
    server.stop()
    raise RuntimeError(f"{argv} did not answer within 60 s; see {log_path}")


def product_argv(db_path: Path, port: int) -> list[str]:
    return [
        sys.executable, "-m", "hackatime.cli", "serve",
        "--db", str(db_path), "--host", HOST, "--port", str(port),
    ]  # fmt: skip


def floor_argv(db_path: Path, port: int, *, aiosqlite: bool = False) -> list[str]:
    argv = [sys.executable, "-m", "bench.floor_app", "--db", str(db_path), "--port", str(port)]
    return [*argv, "--aiosqlite"] if aiosqlite else argv
