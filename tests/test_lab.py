"""`make lab` serves JupyterLab on 127.0.0.1, and stops cleanly."""

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


def test_make_lab_serves_jupyterlab_on_loopback():
    port, token = free_port(), secrets.token_hex(16)
    lab = subprocess.Popen(
        ["make", "--no-print-directory", "lab", f"PORT={port}",
         f"LAB_ARGS=--no-browser --IdentityProvider.token={token}"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        headers, status = {"Authorization": f"token {token}"}, None
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and lab.poll() is None:
            try:
                status = requests.get(f"http://127.0.0.1:{port}/api/status", headers=headers, timeout=5)
                break
            except requests.ConnectionError:
                time.sleep(0.5)
        assert status is not None and status.status_code == 200, "JupyterLab did not answer on 127.0.0.1"
        lesson = requests.get(f"http://127.0.0.1:{port}/api/contents/notebooks/00_welcome_and_setup.ipynb",
                              headers=headers, timeout=10)
        assert lesson.status_code == 200
        assert requests.get(f"http://127.0.0.1:{port}/api/status", timeout=5).status_code == 403  # token needed
        tree = [psutil.Process(lab.pid), *psutil.Process(lab.pid).children(recursive=True)]
        pids = {p.pid for p in tree}
        listening = {c.laddr.ip for c in psutil.net_connections("inet")
                     if c.status == psutil.CONN_LISTEN and c.pid in pids}
        assert listening == {"127.0.0.1"}, f"JupyterLab listens on {listening}"
    finally:
        os.killpg(lab.pid, signal.SIGTERM)
        try:
            lab.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(lab.pid, signal.SIGKILL)
            lab.wait()
