"""Fixtures for the slide and browser tests: the built pages, Chromium, a running JupyterLab."""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
# Chromium as root in a container: no sandbox, no GPU, and nothing it would fetch on its own.
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
INSTALL_HINT = (
    "the browser tests need Chromium and Playwright for Python: `apt-get install chromium` "
    "(or set CHROMIUM=/path/to/chromium) and `pip install playwright` (no `playwright install`)"
)


def _build(what, out):
    """Run slides/build.py like `make slides` / `make course` (without executing), into ``out``."""
    if shutil.which("npm") is None and not (ROOT / "build" / "_npm").is_dir():
        pytest.skip("npm is not installed: slides/build.py fetches reveal.js and MathJax with it")
    done = subprocess.run(
        [sys.executable, str(ROOT / "slides" / "build.py"), what, "--out", str(out), *map(str, NOTEBOOKS)],
        capture_output=True, text=True, cwd=ROOT,
    )
    assert done.returncode == 0, f"slides/build.py {what} failed:\n{done.stderr[-3000:]}"
    return out


@pytest.fixture(scope="session")
def built_decks(tmp_path_factory):
    """A folder holding one deck per notebook, as `make slides` writes them."""
    return _build("decks", tmp_path_factory.mktemp("slides"))


@pytest.fixture(scope="session")
def built_handouts(tmp_path_factory):
    """A folder holding one hand-out per notebook in `instructor/` and in `student/`, as
    `make course` writes them (from the committed outputs: the template, not the execution,
    decides what the page loads)."""
    return _build("handouts", tmp_path_factory.mktemp("handouts"))


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    """Headless Debian Chromium driven by Playwright, with a new empty profile."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip(INSTALL_HINT)
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found; {INSTALL_HINT}")
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=str(CHROMIUM),
            headless=True, args=CHROMIUM_ARGS, viewport={"width": 1280, "height": 900},
        )
        yield context
        context.close()


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until_up(url, process, timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"JupyterLab exited with status {process.returncode} before it was up")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"JupyterLab did not answer {url} within {timeout} s")


@pytest.fixture(scope="session")
def jupyterlab(tmp_path_factory):
    """JupyterLab started the way `make lab` starts it, on a free port, over a temporary copy of
    the course (notebooks with their outputs cleared, so every figure must come from the run).
    Yields (base URL with token, the copied notebooks folder); stopped afterwards."""
    import nbformat

    home = tmp_path_factory.mktemp("course")
    notebooks = home / "notebooks"
    notebooks.mkdir()
    for path in NOTEBOOKS:
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        nbformat.write(notebook, notebooks / path.name)
    settings = home / "lab-settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    # Every cell stays in the page (no virtual scrolling), so the test sees every output.
    (settings / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    apputils = home / "lab-settings" / "@jupyterlab" / "apputils-extension"
    apputils.mkdir(parents=True)
    (apputils / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    env = dict(
        os.environ,
        COURSE_HOME=str(home),
        YT8M_DATA=str(ROOT / "data" / "sample"),
        COURSE_SIZE="small",
        TF_CPP_MIN_LOG_LEVEL="3",
        PYTHONHASHSEED="0",
        PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        JUPYTER_CONFIG_DIR=str(home / "jupyter-config"),
        JUPYTER_RUNTIME_DIR=str(home / "jupyter-runtime"),
        JUPYTERLAB_SETTINGS_DIR=str(home / "lab-settings"),
        JUPYTERLAB_WORKSPACES_DIR=str(home / "lab-workspaces"),
    )
    port, token = _free_port(), os.urandom(12).hex()
    command = [
        sys.executable, "-m", "jupyterlab", f"--notebook-dir={notebooks}", "--no-browser",
        f"--port={port}", "--ServerApp.ip=127.0.0.1", f"--IdentityProvider.token={token}",
        "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    if os.geteuid() == 0:  # as in the Makefile's ROOT_FLAG
        command.append("--allow-root")
    log = (home / "jupyterlab.log").open("w")
    process = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=home)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(f"{base}/api/status?token={token}", process)
        yield base, token, notebooks
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()
