"""The course as a person meets it: JupyterLab and the decks in a real (headless) Chromium.

Skips, saying what to install, where Chromium or Playwright is missing; `.ci/run` installs them.
Screenshots go to build/browser/.
"""

import json
import re

import nbformat
import pytest

from ..notebooks import exercises
from .conftest import INSTALL_HINT, NOTEBOOKS, ROOT

PlaywrightTimeout = pytest.importorskip("playwright.sync_api", reason=INSTALL_HINT).TimeoutError

SHOTS = ROOT / "build" / "browser"
NOTEBOOK = "01_tfrecord_loading.ipynb"
# About a minute on 2 idle cores; generous, because a shared CI machine can be far busier.
RUN_TIMEOUT_MS = 360_000
# The kernel is idle and no cell is queued or running ("[*]"): Run All has finished (or stopped
# at an error, which the saved notebook then shows).
RUN_FINISHED = """() => {
  const idle = document.querySelector(".jp-Notebook-ExecutionIndicator[data-status='idle']");
  const prompts = Array.from(document.querySelectorAll('.jp-CodeCell .jp-InputPrompt'));
  return idle && prompts.length && /\\[\\d+\\]/.test(prompts[0].textContent)
    && !prompts.some(p => p.textContent.includes('*'));
}"""

PRESENT = "() => document.querySelectorAll('.slides > section')[{index}].classList.contains('present')"
MATHJAX_IDLE = """() => window.MathJax && MathJax.Hub && MathJax.Hub.queue.pending === 0
  && !MathJax.Hub.queue.running"""

TEXT_OUTSIDE_CODE = """() => {
  const walker = document.createTreeWalker(document.querySelector('.slides'), NodeFilter.SHOW_TEXT);
  const parts = [];
  while (walker.nextNode()) {
    const parent = walker.currentNode.parentElement;
    if (!parent.closest('script, style, pre, code, .MathJax_CHTML, .MJX_Assistive_MathML')) {
      parts.push(walker.currentNode.textContent);
    }
  }
  return parts.join(' ');
}"""


@pytest.fixture
def page(browser):
    page = browser.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors
    yield page
    page.close()


def test_notebook_01_runs_in_jupyterlab(jupyterlab, page):
    base, token, notebooks = jupyterlab
    SHOTS.mkdir(parents=True, exist_ok=True)
    (SHOTS / "jupyterlab_notebook_01_timeout.png").unlink(missing_ok=True)
    page.goto(f"{base}/lab/tree/{NOTEBOOK}?token={token}")
    page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-Cell", timeout=90_000)
    # JupyterLab 4.6 asks which kernel to start (unless told to always start the preferred one):
    # accept its choice, Python 3 (ipykernel), as a student would.
    select = page.locator(".jp-Dialog .jp-mod-accept")
    try:
        select.wait_for(timeout=20_000)
        select.click()
    except PlaywrightTimeout:
        pass
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=90_000)
    # Through the menus, as a student would: Run > Run All Cells.
    page.locator(".lm-MenuBar-item", has_text="Run").first.click()
    page.locator(".lm-Menu-item[data-command='runmenu:run-all']").click()
    try:
        page.wait_for_function(RUN_FINISHED, timeout=RUN_TIMEOUT_MS)
    except Exception:
        page.screenshot(path=str(SHOTS / "jupyterlab_notebook_01_timeout.png"))
        prompts = page.locator(".jp-CodeCell .jp-InputPrompt").all_text_contents()
        status = page.locator(".jp-Notebook-ExecutionIndicator").get_attribute("data-status")
        pytest.fail(f"Run All did not finish in {RUN_TIMEOUT_MS / 1000:.0f} s: kernel {status}, prompts {prompts}")
    page.keyboard.press("Control+s")
    page.wait_for_function("() => !document.querySelector('.jp-mod-dirty')", timeout=20_000)

    saved = json.loads((notebooks / NOTEBOOK).read_text())
    code = [cell for cell in saved["cells"] if cell["cell_type"] == "code"]
    errors = [
        f"cell {i}: {output.get('ename')}: {output.get('evalue')}"
        for i, cell in enumerate(code) for output in cell["outputs"] if output["output_type"] == "error"
    ]
    assert not errors, f"error outputs after Run All: {errors}"
    unrun = [i for i, cell in enumerate(code) if cell["execution_count"] is None]
    assert not unrun, f"code cells not run: {unrun}"
    figure = page.locator(".jp-OutputArea .jp-RenderedImage img").first
    figure.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "jupyterlab_notebook_01.png"))
    figures = page.locator(".jp-OutputArea .jp-RenderedImage img").count()

    assert figures >= 1, "no rendered figure in the notebook"


def test_deck_renders_maths_offline_and_moves_on(built_decks, page):
    SHOTS.mkdir(parents=True, exist_ok=True)
    remote = []
    page.on("request", lambda r: remote.append(r.url) if not r.url.startswith(("file:", "data:")) else None)
    page.goto((built_decks / "02_map_at_k_by_hand.slides.html").as_uri())
    page.wait_for_selector(".reveal.ready", timeout=30_000)
    page.wait_for_function(MATHJAX_IDLE, timeout=60_000)
    assert page.locator(".MathJax_CHTML").count() > 10, "MathJax rendered no (or hardly any) maths"
    assert not page.locator(".MathJax_CHTML_Error, .MathJax_Error, merror").count(), "TeX errors"
    raw = re.findall(r"\$[^$\s][^$]*\$", page.evaluate(TEXT_OUTSIDE_CODE))
    assert not raw, f"raw TeX left in the deck: {raw[:3]}"

    page.evaluate("location.hash = '#/2'")  # the key equation
    page.wait_for_function(PRESENT.format(index=2))
    # On every slide change the template re-typesets the new slide: wait until it is done.
    page.wait_for_function(MATHJAX_IDLE, timeout=30_000)
    maths = page.locator(".slides > section.present .MathJax_CHTML").first
    maths.wait_for(state="visible", timeout=10_000)
    assert maths.bounding_box()["width"] > 50, "the key equation is not on screen"
    page.screenshot(path=str(SHOTS / "deck_02_equation.png"))
    present = "() => document.querySelector('.slides > section.present').textContent.trim().slice(0, 40)"
    equation_slide = page.evaluate(present)
    page.keyboard.press("ArrowRight")
    page.wait_for_function("() => location.hash === '#/3'", timeout=10_000)
    page.wait_for_function(PRESENT.format(index=3))
    assert page.evaluate(present) != equation_slide, "ArrowRight did not show another slide"
    page.wait_for_function(MATHJAX_IDLE, timeout=30_000)
    page.screenshot(path=str(SHOTS / "deck_02_next.png"))

    assert page.locator("aside.notes").count() > 0, "no speaker notes in the deck"
    with page.context.expect_page(timeout=10_000) as notes:
        page.keyboard.press("s")  # reveal.js' speaker view
    notes.value.wait_for_load_state()
    assert notes.value.locator(".speaker-controls-notes").count() == 1
    notes.value.close()
    assert not remote, f"the deck asked the network for {remote}"
    assert not page.errors, f"JavaScript errors: {page.errors}"


def test_student_handout_has_no_solutions(built_handouts, page):
    """Each student hand-out, as a browser shows it, has a stub for every exercise and none of the
    solution lines nor a check's "correct"; the instructor hand-out shows the solutions."""
    checked = 0
    for notebook in NOTEBOOKS:
        source = nbformat.read(notebook, as_version=4)
        secret = exercises.solution_lines(source)
        if not exercises.exercises(source):
            continue
        page.goto((built_handouts / "student" / f"{notebook.stem}.html").as_uri())
        lines = [line.strip() for line in page.inner_text("body").splitlines()]
        assert not secret.intersection(lines), f"{notebook.name}: {sorted(secret.intersection(lines))[:3]}"
        assert lines.count("raise NotImplementedError()") >= len(exercises.exercises(source))
        outputs = " ".join(page.locator(".jp-OutputArea-output").all_inner_texts())
        assert not re.search(r"Exercise \d+: correct", outputs), f"{notebook.name}: a check's output survives"
        assert "Figure" in outputs or page.locator(".jp-OutputArea-output img").count(), "outputs were dropped"
        page.goto((built_handouts / "instructor" / f"{notebook.stem}.html").as_uri())
        shown = {line.strip() for line in page.inner_text("body").splitlines()}
        assert secret <= shown, f"{notebook.name}: the instructor hand-out lacks {sorted(secret - shown)[:3]}"
        checked += 1
    assert checked, "no notebook with exercises"
    assert not page.errors, f"JavaScript errors: {page.errors}"
