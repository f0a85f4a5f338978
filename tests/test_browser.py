"""The worker-count panel in a real JupyterLab, driven in headless Chromium (Debian's, never downloaded).

Skipped where /usr/bin/chromium is missing; .ci/run installs it.
"""

import secrets
import sys
import time
from pathlib import Path

import nbformat
import pytest

from tests.test_lab import free_port, jupyter_server

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed")
PANEL_CELL = """from parallel_course import workloads
from parallel_course.widgets import WorkerPanel

panel = WorkerPanel(workloads.cpu_bound, [50_000] * 4, backend="processes", cap=2)
panel"""


@pytest.fixture
def lab(tmp_path):
    """JupyterLab from the course's environment, on 127.0.0.1, serving one notebook with a panel."""
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(PANEL_CELL)]
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, tmp_path / "panel.ipynb")
    port, token = free_port(), secrets.token_hex(16)
    command = [str(Path(sys.executable).with_name("jupyter")), "lab", "--ip=127.0.0.1", f"--port={port}",
               "--no-browser", "--allow-root", f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={tmp_path}", "--expose-app-in-browser"]
    with jupyter_server(command, port, token, cwd=tmp_path):
        yield f"http://127.0.0.1:{port}/lab/tree/panel.ipynb?token={token}"


@pytest.mark.timeout(240)
def test_the_panel_runs_and_redraws_in_jupyterlab(lab):
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(lab)
            kernel_idle = ("window.jupyterapp?.shell.currentWidget?.sessionContext?.session?.kernel?.status"
                           " === 'idle'")
            page.wait_for_function(kernel_idle, timeout=90_000)
            # Not awaited: the command's promise settles only when the kernel has run every cell.
            page.evaluate("() => { window.jupyterapp.commands.execute('notebook:run-all-cells'); }")
            slider = page.locator(".widget-slider").first
            expect(slider).to_be_visible(timeout=60_000)
            slider.locator(".noUi-handle").first.focus()
            page.keyboard.press("Home")
            expect(slider.locator(".widget-readout")).to_have_text("1")
            page.keyboard.press("End")  # the slider's largest value: the cap, 2 workers
            expect(slider.locator(".widget-readout")).to_have_text("2")
            start = time.perf_counter()
            page.locator("button.jupyter-button", has_text="Run").click()
            status = page.locator(".widget-html-content", has_text="2 worker(s)")
            expect(status).to_be_visible(timeout=60_000)
            expect(page.locator(".jp-Cell-outputArea img.widget-image")).to_be_visible(timeout=30_000)
            print(f"click to plot in the browser: {time.perf_counter() - start:.2f} s")
            expect(page.locator(".jp-Cell-outputArea", has_text="efficiency")).to_be_visible()
        finally:
            browser.close()
