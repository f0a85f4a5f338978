"""`make lab` serves JupyterLab on 127.0.0.1, and stops cleanly."""

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import time
from pathlib import Path

import psutil
import requests

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def jupyter_server(command: list[str], port: int, token: str, cwd: Path = ROOT):
    """Run a Jupyter server command in its own process group; yield it once its API answers; stop it all."""
    server = subprocess.Popen(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and server.poll() is None:
            try:
                requests.get(f"http://127.0.0.1:{port}/api/status", headers={"Authorization": f"token {token}"},
                             timeout=5)
                break
            except requests.ConnectionError:
                time.sleep(0.5)
        yield server
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def test_make_lab_serves_jupyterlab_on_loopback():
    port, token = free_port(), secrets.token_hex(16)
    command = ["make", "--no-print-directory", "lab", f"PORT={port}",
               f"LAB_ARGS=--no-browser --IdentityProvider.token={token}"]
    with jupyter_server(command, port, token) as lab:
        base, headers = f"http://127.0.0.1:{port}", {"Authorization": f"token {token}"}
        assert requests.get(f"{base}/api/status", headers=headers, timeout=10).status_code == 200
        lesson = requests.get(f"{base}/api/contents/notebooks/00_welcome_and_setup.ipynb", headers=headers, timeout=10)
        assert lesson.status_code == 200
        assert requests.get(f"{base}/api/status", timeout=5).status_code == 403  # the token is needed
        pids = {lab.pid, *(p.pid for p in psutil.Process(lab.pid).children(recursive=True))}
        listening = {c.laddr.ip for c in psutil.net_connections("inet")
                     if c.status == psutil.CONN_LISTEN and c.pid in pids}
        assert listening == {"127.0.0.1"}, f"JupyterLab listens on {listening}"
