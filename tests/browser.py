"""Headless chromium and a JupyterLab server, for the browser tests (test_browser.py).

The browser is Debian's `chromium` driven through `chromium-driver` by selenium (the
tests skip, saying how to install them, only when no browser is here). JupyterLab runs
on a copy of the chapters, with autosave off: nothing a test does in the browser can
write to the working tree.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome")
INSTALL_HINT = (
    "the browser tests need chromium and its driver: on Debian or Ubuntu `sudo apt-get "
    "install chromium chromium-driver` (or `make browser` as root)"
)
# Console entries that are JavaScript errors (chromium's "SEVERE": uncaught
# exceptions, console.error, resources that failed to load).
ERROR_LEVEL = "SEVERE"

# JupyterLab's settings for the tests: the chapters open as notebooks (the README's
# one-time `jupytext-config set-default-viewer markdown` writes the first entry),
# nothing is saved behind the test's back, every cell stays in the page (no windowing),
# so its text can be read, and no news or update checks reach for the internet.
LAB_SETTINGS = {
    "@jupyterlab/docmanager-extension:plugin": {"autosave": False},
    "@jupyterlab/notebook-extension:tracker": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension:notification": {
        "checkForUpdates": False,
        "fetchNews": "false",
    },
}


def browser_paths() -> tuple[str | None, str | None]:
    """The browser and driver executables found on the PATH (None where missing)."""
    browser = next(filter(None, map(shutil.which, BROWSER_NAMES)), None)
    return browser, shutil.which("chromedriver")


def missing_browser() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    browser, driver = browser_paths()
    found = {"chromium": browser, "chromedriver": driver}
    missing = [name for name, path in found.items() if path is None]
    if not missing:
        return None
    return f"no {' and '.join(missing)} on this machine: {INSTALL_HINT}"


def start_chromium(
    width: int = 1280, height: int = 1600, offline: bool = True
) -> webdriver.Chrome:
    """A headless chromium that records its console (read with `console`).

    Offline, every host name fails to resolve (only 127.0.0.1 is reached), so a page
    that needs the internet shows it here even on a machine that has it."""
    browser, driver = browser_paths()
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    arguments = [
        "--headless=new",
        "--no-sandbox",  # CI runs as root
        "--disable-dev-shm-usage",
        "--disable-gpu",
        f"--window-size={width},{height}",
    ]
    if offline:
        arguments.append("--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1")
    for argument in arguments:
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    chrome = webdriver.Chrome(service=Service(driver), options=options)
    chrome.set_script_timeout(900)
    return chrome


def console(chrome: webdriver.Chrome) -> list[dict]:
    """The console entries since the last call."""
    return chrome.get_log("browser")


def errors_in(entries: list[dict]) -> list[str]:
    return [e["message"] for e in entries if e["level"] == ERROR_LEVEL]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class JupyterLab:
    """A JupyterLab server on 127.0.0.1 with its own config, settings and runtime
    folders under `home`, serving `root`."""

    root: Path
    home: Path
    env: dict[str, str]
    token: str = field(default_factory=lambda: secrets.token_hex(16))
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 120) -> JupyterLab:
        config = self.home / "config"
        env = {
            **self.env,
            "JUPYTER_CONFIG_DIR": str(config),
            "JUPYTER_RUNTIME_DIR": str(self.home / "runtime"),
        }
        # The README's one-time step, then the tests' own settings beside it.
        subprocess.run(
            ["jupytext-config", "set-default-viewer", "markdown"],
            env=env,
            check=True,
            capture_output=True,
        )
        overrides = config / "labconfig" / "default_setting_overrides.json"
        settings = json.loads(overrides.read_text())
        overrides.write_text(json.dumps({**settings, **LAB_SETTINGS}, indent=1))
        log = (self.home / "jupyterlab.log").open("w")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyterlab",
                "--no-browser",
                "--ip=127.0.0.1",
                f"--port={self.port}",
                f"--IdentityProvider.token={self.token}",
                f"--ServerApp.root_dir={self.root}",
                "--LabApp.expose_app_in_browser=True",  # window.jupyterapp
                f"--LabApp.workspaces_dir={self.home / 'workspaces'}",
                f"--LabApp.user_settings_dir={self.home / 'settings'}",
                "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
                "--LabApp.extension_manager=readonly",  # no PyPI queries
                "--allow-root",  # CI runs as root
            ],
            env=env,
            cwd=self.root,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited: {self.log_tail()}")
            try:
                status = f"{self.url}/api/status?token={self.token}"
                with urllib.request.urlopen(status, timeout=5):
                    return self
            except OSError:
                time.sleep(0.5)
        raise TimeoutError(
            f"JupyterLab did not answer in {timeout} s: {self.log_tail()}"
        )

    def log_tail(self, chars: int = 3000) -> str:
        return (self.home / "jupyterlab.log").read_text()[-chars:]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()

    def open_in(self, chrome: webdriver.Chrome, timeout: float = 120) -> None:
        """Load JupyterLab in the browser and wait until it has restored."""
        chrome.get(f"{self.url}/lab?token={self.token}")
        chrome.execute_async_script(WAIT_FOR_LAB, timeout * 1000)


def lab_env(**extra: str) -> dict[str, str]:
    """The server's (and so its kernels') environment: this one, plus `extra`."""
    return {**os.environ, **extra}


# --- JavaScript run in the JupyterLab page (window.jupyterapp) ----------------------

WAIT_FOR_LAB = """
const [timeout, done] = arguments;
const start = Date.now();
(async () => {
  while (!window.jupyterapp) {
    if (Date.now() - start > timeout) throw new Error('no window.jupyterapp');
    await new Promise(r => setTimeout(r, 200));
  }
  await window.jupyterapp.restored;
  done(true);
})().catch(e => done(String(e)));
"""

# Open a MyST chapter as a notebook (jupytext's factory), run every cell, and report:
# the panel's id, the seconds taken, each error output, how many code cells ran.
RUN_NOTEBOOK = """
const [path, done] = arguments;
(async () => {
  const app = window.jupyterapp;
  const panel = await app.commands.execute(
    'docmanager:open', {path, factory: 'Jupytext Notebook'});
  await panel.context.ready;
  await panel.sessionContext.ready;
  app.shell.activateById(panel.id);
  const start = Date.now();
  await app.commands.execute('notebook:run-all-cells');
  const code = panel.content.widgets.filter(c => c.model.type === 'code');
  const errors = [];
  for (const cell of code) {
    for (const output of cell.model.outputs.toJSON()) {
      if (output.output_type === 'error') {
        errors.push(`${output.ename}: ${output.evalue}\\n` +
                    (output.traceback || []).join('\\n').slice(-2000));
      }
    }
  }
  done({
    id: panel.id,
    seconds: (Date.now() - start) / 1000,
    errors,
    code_cells: code.length,
    ran: code.filter(c => c.model.executionCount !== null).length,
    kernel: panel.sessionContext.session && panel.sessionContext.session.kernel
      ? panel.sessionContext.session.kernel.status : 'none',
  });
})().catch(e => done({failure: String(e && e.stack || e)}));
"""

# The visible text of an open notebook (every cell is in the page: no windowing).
NOTEBOOK_TEXT = """
const panel = Array.from(window.jupyterapp.shell.widgets('main'))
  .find(w => w.id === arguments[0]);
return panel ? panel.content.node.innerText : null;
"""

# Show the top of an open notebook (its title), for the screenshot.
SCROLL_TO_TOP = """
const panel = Array.from(window.jupyterapp.shell.widgets('main'))
  .find(w => w.id === arguments[0]);
if (panel) {
  panel.content.activeCellIndex = 0;
  const outer = panel.content.node.querySelectorAll('.jp-WindowedPanel-outer');
  for (const node of [panel.content.node, ...outer]) node.scrollTop = 0;
}
"""

# Wait for the page's fonts and two animation frames: what was laid out is painted
# (for the screenshots).
PAINTED = """
const done = arguments[arguments.length - 1];
document.fonts.ready.then(() => requestAnimationFrame(() => requestAnimationFrame(
  () => done(true))));
"""

# Shut a notebook's kernel down and close it without saving.
CLOSE_NOTEBOOK = """
const [id, done] = arguments;
(async () => {
  const panel = Array.from(window.jupyterapp.shell.widgets('main'))
    .find(w => w.id === id);
  if (panel) {
    await panel.sessionContext.shutdown();
    panel.dispose();
  }
  done(true);
})().catch(e => done(String(e)));
"""
