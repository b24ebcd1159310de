"""The book as readers meet it, in a real browser (headless chromium, no internet).

In JupyterLab, on the tiny preset, every chapter opens from its MyST file as a notebook
and runs: no error output, no raw MyST directive text on screen (jupyterlab-myst
renders them), no JavaScript error in the console. In chapter 7 the explorer's panel
answers a changed query with the table `devise_lite` computes for it. Every page of
the tiny build opens from disk with an empty error console, its math typeset and the
explorer's saved widget state drawn.

One JupyterLab server and one tiny data root serve every chapter; a screenshot per
chapter, in JupyterLab and rendered, is kept in build/test-artifacts/browser/.
"""

import contextlib
import shutil
from pathlib import Path

import pytest
import yaml
from browser import (
    CLOSE_NOTEBOOK,
    NOTEBOOK_TEXT,
    PAINTED,
    RUN_NOTEBOOK,
    SCROLL_TO_TOP,
    JupyterLab,
    console,
    errors_in,
    lab_env,
    missing_browser,
    start_chromium,
)
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait

REPO = Path(__file__).resolve().parent.parent
ARTIFACTS = REPO / "build" / "test-artifacts" / "browser"
EXPLORE = "book/07_explore"
# MyST that only shows as typed when nothing rendered it.
RAW_DIRECTIVES = (":::{", ":pyobject:", "{literalinclude}", "{exercise}")

pytestmark = pytest.mark.skipif(
    missing_browser() is not None, reason=missing_browser() or ""
)


def book_pages() -> list[str]:
    toc = yaml.safe_load((REPO / "_toc.yml").read_text())
    return [toc["root"]] + [chapter["file"] for chapter in toc["chapters"]]


def is_notebook(page: str) -> bool:
    return "kernelspec" in (REPO / f"{page}.md").read_text()[:600]


NOTEBOOKS = [page for page in book_pages() if is_notebook(page)]


def artifact(name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / name


class Lab:
    """One JupyterLab server and one browser on it; each chapter is run once, and
    closed after its checks (chapter 7 stays open for the explorer test)."""

    def __init__(self, server: JupyterLab, chrome):
        self.server, self.chrome = server, chrome
        self.start_errors = errors_in(console(chrome))
        self.runs: dict[str, dict] = {}

    def run(self, page: str) -> dict:
        if page in self.runs:
            return self.runs[page]
        console(self.chrome)  # what came before belongs to the previous chapter
        run = self.chrome.execute_async_script(RUN_NOTEBOOK, f"{page}.md")
        if "failure" not in run:
            run["text"] = self.rendered_text(run["id"])
            self.chrome.execute_script(SCROLL_TO_TOP, run["id"])
            self.chrome.execute_async_script(PAINTED)
            self.chrome.save_screenshot(artifact(f"{Path(page).name}-jupyterlab.png"))
        run["console_errors"] = errors_in(console(self.chrome))
        self.runs[page] = run
        if page != EXPLORE and "id" in run:
            self.chrome.execute_async_script(CLOSE_NOTEBOOK, run["id"])
        return run

    def rendered_text(self, panel: str, timeout: float = 10) -> str:
        """The notebook's text once jupyterlab-myst has rendered its directives (it
        renders after the run), or as it stands after `timeout` seconds."""

        def text(chrome) -> str:
            return chrome.execute_script(NOTEBOOK_TEXT, panel) or ""

        with contextlib.suppress(TimeoutException):
            WebDriverWait(self.chrome, timeout, poll_frequency=0.1).until(
                lambda c: not any(s in text(c) for s in RAW_DIRECTIVES)
            )
        return text(self.chrome)


@pytest.fixture(scope="module")
def lab(tiny_run, tmp_path_factory):
    """JupyterLab on a copy of the chapters (so nothing is written to the working
    tree), its kernels on the tiny preset and the session's data root."""
    home = tmp_path_factory.mktemp("jupyterlab")
    shutil.copytree(REPO / "book", home / "root" / "book")
    server = JupyterLab(
        home / "root", home, lab_env(DEVISE_PRESET="tiny", TQDM_DISABLE="1")
    )
    server.start()
    chrome = start_chromium(1400, 1800)
    try:
        server.open_in(chrome)
        yield Lab(server, chrome)
    finally:
        chrome.quit()
        server.stop()


@pytest.fixture(scope="module")
def page_browser():
    chrome = start_chromium(1280, 1600)
    yield chrome
    chrome.quit()


def test_jupyterlab_starts_with_a_clean_console(lab):
    assert not lab.start_errors, lab.start_errors


@pytest.mark.parametrize("page", NOTEBOOKS, ids=[Path(p).name for p in NOTEBOOKS])
def test_each_chapter_runs_cleanly_in_jupyterlab(lab, page):
    run = lab.run(page)
    assert "failure" not in run, run.get("failure")
    assert not run["errors"], "\n\n".join(run["errors"])
    assert run["ran"] == run["code_cells"], f"{run['ran']} of {run['code_cells']} ran"
    raw = [snippet for snippet in RAW_DIRECTIVES if snippet in run["text"]]
    assert not raw, f"unrendered MyST on screen: {raw}"
    assert not run["console_errors"], run["console_errors"]


def widget_input(chrome, kind: str, label: str):
    """The input (or select, for a dropdown) of the explorer panel's control with this
    label."""
    control = f"//div[contains(@class, 'widget-{kind}')]"
    labelled = f"[.//label[normalize-space()='{label}']]"
    element = "select" if kind == "dropdown" else "input"
    return chrome.find_element(By.XPATH, f"{control}{labelled}//{element}")


def shown_wnids(chrome) -> list[str]:
    """The wnid column of the explorer panel's table of nearest labels."""
    return chrome.execute_script(
        """
        const table = document.querySelector('.widget-html-content table');
        if (!table) return [];
        const heads = [...table.querySelectorAll('thead th')]
          .map(t => t.innerText.trim());
        const column = heads.indexOf('wnid');
        return [...table.querySelectorAll('tbody tr')].map(
          row => row.querySelectorAll('td')[column].innerText.trim());
        """
    )


def test_the_explorer_panel_answers_a_changed_query(lab, tiny_run):
    """Chapter 7 runs in JupyterLab; typing another word, then picking another
    candidate set, redraws the panel's table with what devise_lite answers."""
    from devise_lite.book.explorer_build import explorer_for
    from devise_lite.config import get_preset

    run = lab.run(EXPLORE)
    assert "failure" not in run and not run["errors"], run
    chrome = lab.chrome
    explorer = explorer_for(get_preset("tiny"))
    word_box = widget_input(chrome, "text", "word")
    candidates = Select(widget_input(chrome, "dropdown", "candidates"))
    model = Select(widget_input(chrome, "dropdown", "model")).first_selected_option
    k = int(chrome.find_element(By.CSS_SELECTOR, ".widget-readout").text)
    first_word = word_box.get_attribute("value")
    first = shown_wnids(chrome)
    current = candidates.first_selected_option.text
    assert (
        first
        == explorer.neighbours_of_text(first_word, k, current, model.text)[
            "wnid"
        ].tolist()
    )

    def expect(word, candidate_set):
        table = explorer.neighbours_of_text(word, k, candidate_set, model.text)
        wanted = table["wnid"].tolist()
        WebDriverWait(chrome, 60).until(lambda c: shown_wnids(c) == wanted)
        return wanted

    word = next(
        w
        for w in ("guitar", "dog", "car", "whale", "fish", "bird")
        if w in explorer.words and w != first_word
    )
    word_box.clear()
    word_box.send_keys(word, Keys.ENTER)
    after_word = expect(word, current)
    assert after_word != first
    other_set = next(o.text for o in candidates.options if o.text != current)
    candidates.select_by_visible_text(other_set)
    expect(word, other_set)
    chrome.execute_script("arguments[0].scrollIntoView({block: 'center'})", word_box)
    chrome.save_screenshot(artifact("07_explore-widget.png"))
    assert not errors_in(console(chrome))


@pytest.mark.parametrize("page", book_pages(), ids=[Path(p).name for p in book_pages()])
def test_each_rendered_page_shows_its_math_and_widgets_offline(
    tiny_book, page_browser, page
):
    """Opened from disk with every host name unresolvable: no console error, the math
    typeset by the vendored MathJax, the saved widget state drawn."""
    chrome = page_browser
    console(chrome)
    chrome.get((tiny_book.html / f"{page}.html").as_uri())
    html = chrome.page_source
    if "tex-mml-chtml.js" in html and ("\\(" in html or "\\[" in html):
        WebDriverWait(chrome, 60).until(
            lambda c: c.execute_script(
                "return !!document.querySelector('mjx-container')"
            )
        )
        raw_math = chrome.execute_script(
            "return [...document.querySelectorAll('.math')]"
            ".filter(m => !m.querySelector('mjx-container')).length"
        )
        assert raw_math == 0, f"{raw_math} formulas left as TeX"
    shown = "mjx-container"  # what the screenshot shows: the first formula, or
    if "application/vnd.jupyter.widget-state+json" in html:
        WebDriverWait(chrome, 60).until(
            lambda c: c.find_elements(By.CSS_SELECTOR, ".widget-html-content table")
        )
        shown = ".widget-text"  # the explorer's panel
    chrome.execute_script(
        "const e = document.querySelector(arguments[0]);"
        "if (e) e.scrollIntoView({block: 'center'});",
        shown,
    )
    chrome.execute_async_script(PAINTED)
    chrome.save_screenshot(artifact(f"{Path(page).name}-rendered.png"))
    assert not errors_in(console(chrome))
