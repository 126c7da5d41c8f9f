"""The viewer in a real browser: headless Chromium through chromedriver (Selenium), on the site that
`gym-pdb view` serves on loopback and on the one `gym-pdb view --export` writes, opened from file://.

scripts/ci-browser.sh installs chromium and chromium-driver (scripts/test.sh runs it as root). Without
them these tests skip on a workstation and fail in CI (``CI`` set). One browser for the module.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from gym_pdb.cli import main
from gym_pdb.evaluation.summary import COLUMNS, read_results

REPO = Path(__file__).resolve().parents[2]
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/lib/chromium/chromedriver"


def browser_problem() -> str | None:
    """Why no headless browser can run here, or None."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium is not installed (pip install 'gym-pdb[dev]')"
    if not shutil.which("chromium"):
        return "chromium is not installed (scripts/ci-browser.sh installs it)"
    if not os.access(CHROMEDRIVER, os.X_OK):
        return "chromium-driver is not installed (scripts/ci-browser.sh installs it)"
    return None


PROBLEM = browser_problem()
if PROBLEM and not os.environ.get("CI"):
    pytest.skip(PROBLEM, allow_module_level=True)  # before the runs are made: they would be for nothing


@pytest.fixture(scope="module")
def browser():
    if PROBLEM:
        pytest.fail(f"a headless browser is required in CI: {PROBLEM}")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium")
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1360,900"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


@pytest.fixture(scope="module")
def sites(viewer_runs, tmp_path_factory):
    """The two runs' viewer: served by `gym-pdb view` (a subprocess, free port) and exported."""
    runs = [str(viewer_runs["expert"]), str(viewer_runs["llm"])]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    server = subprocess.Popen(
        [sys.executable, "-m", "gym_pdb.cli", "view", *runs, "--port", "0"],
        cwd=REPO, env=env, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        line = server.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+/", line)
        assert url, f"gym-pdb view printed {line!r}"
        out = tmp_path_factory.mktemp("export") / "site"
        assert main(["view", *runs, "--export", str(out)]) == 0
        yield {"served": url.group(), "exported": (out / "index.html").as_uri()}
    finally:
        server.send_signal(signal.SIGINT)
        assert server.wait(10) == 0


@pytest.fixture(params=["served", "exported"])
def site(request, sites) -> tuple[str, str]:
    return request.param, sites[request.param]


def load(driver, url: str, ready: str):
    """Open ``url`` afresh and wait for an element matching the CSS selector ``ready``."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get("about:blank")
    driver.get(url)
    WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, ready))


def css(driver, selector: str):
    from selenium.webdriver.common.by import By

    return driver.find_elements(By.CSS_SELECTOR, selector)


def no_console_errors(driver) -> None:
    errors = [e for e in driver.get_log("browser") if e["level"] in ("SEVERE", "ERROR")]
    assert not errors, errors


def screenshot(driver, tmp_path: Path, name: str) -> None:
    path = tmp_path / f"{name}.png"
    assert driver.save_screenshot(str(path))
    print(f"screenshot: {path}")


def test_overview_shows_what_summarize_prints(browser, site, viewer_runs, tmp_path, capsys):
    mode, url = site
    assert main(["summarize", str(viewer_runs["expert"]), str(viewer_runs["llm"]), "--format", "markdown"]) == 0
    printed = [line.strip("|").split(" | ") for line in capsys.readouterr().out.splitlines()[2:] if line.startswith("|")]
    load(browser, url, "table.summary tbody tr")
    shown = [[td.text for td in tr.find_elements("css selector", "td")][: len(COLUMNS)] for tr in css(browser, "table.summary tbody tr")]
    assert shown == [[c.strip() for c in row] for row in printed]
    assert len(css(browser, ".ep-body a.ep-row")) == 4
    if mode == "exported":
        assert len(css(browser, ".plots img")) == 3
    no_console_errors(browser)
    screenshot(browser, tmp_path, f"overview-{mode}")


def test_filters_and_search_change_the_rows(browser, site):
    from selenium.webdriver.support.ui import Select

    mode, url = site
    load(browser, url, ".ep-body a.ep-row")

    def rows():
        return sorted(tr.get_attribute("data-key") for tr in css(browser, ".ep-body a.ep-row"))

    def choose(name: str, value: str):
        Select(css(browser, f"form.filters select[name={name}]")[0]).select_by_value(value)

    choose("resolved", "no")
    assert rows() == ["r1/demo/inventory", "r1/demo/running_mean"]
    choose("error", "yes")
    assert rows() == ["r1/demo/inventory"] and css(browser, "#count")[0].text == "1 of 4 episodes"
    choose("error", "")
    choose("resolved", "")
    choose("tool", "pdb")
    assert rows() == ["r0/demo/inventory", "r0/demo/running_mean", "r1/demo/running_mean"]
    css(browser, "form.filters button[name=clear]")[0].click()
    css(browser, "form.filters input[name=q]")[0].send_keys("INV")
    assert rows() == ["r0/demo/inventory", "r1/demo/inventory"]
    choose("suite", "Demo")
    choose("run", "0")
    assert rows() == ["r0/demo/inventory"]
    assert "q=INV" in browser.current_url and "run=0" in browser.current_url
    load(browser, browser.current_url, ".ep-body a.ep-row")  # a filtered view is a link
    assert rows() == ["r0/demo/inventory"]
    no_console_errors(browser)


def test_episode_shows_every_turn_with_its_tool_and_frame(browser, site, viewer_runs, tmp_path):
    mode, url = site
    run = viewer_runs["expert"]
    row = {r["task_id"]: r for r in read_results([run])}["running_mean"]
    messages = json.loads((run / row["trajectory"]).read_text())["messages"]
    records = json.loads((run / row["step_log"]).read_text())["turns"]
    load(browser, url + "#/episode/r0/demo/running_mean/step/6", ".turn")
    turns = css(browser, ".turn")
    assert [t.get_attribute("data-tool") for t in turns] == [
        m["tool_calls"][0]["function"]["name"] for m in messages if m["role"] == "assistant"
    ]
    for turn, record in zip(turns, records, strict=False):
        frame = record["frame"]
        if record["tool"] != "pdb" or frame is None:
            continue
        current = turn.find_elements("css selector", ".listing .ln.cur")
        assert [el.get_attribute("data-line") for el in current] == [str(frame["line"])]
        marked = [int(el.get_attribute("data-line")) for el in turn.find_elements("css selector", ".listing .ln.bp")]
        assert marked == [b["line"] for b in record["breakpoints"] if b["file"] == frame["file"]]
    stopped = turns[5]  # `p values, window`, at the breakpoint on line 6
    assert "focus" in stopped.get_attribute("class") and stopped.find_elements("css selector", ".ln.cur.bp")
    assert browser.execute_script("return arguments[0].getBoundingClientRect().top", stopped) < 200
    first_eval = turns[0]
    assert [el.text for el in first_eval.find_elements("css selector", ".outcome")] == ["FAILED", "FAILED", "PASSED", "PASSED"]
    assert not any(d.get_attribute("open") for d in first_eval.find_elements("css selector", ".test details"))
    assert "window + 1" in css(browser, ".d-add")[0].text and "Gold fix" in browser.page_source
    screenshot(browser, tmp_path, f"episode-{mode}")

    load(browser, url + "#/episode/r1/demo/running_mean", ".turn")  # debug_agent: thinking folded, tokens
    thinking = css(browser, "details.thinking")
    assert len(thinking) == 1 and not thinking[0].get_attribute("open")
    assert re.search(r"\d+ \+ 20 tokens", css(browser, ".turn .times")[0].text)
    assert css(browser, ".turn")[-1].find_elements("css selector", ".ln.cur.bp")  # stopped on its breakpoint
    load(browser, url + "#/episode/r1/demo/inventory", ".episode")
    assert "HTTP 400" in css(browser, ".head")[0].text
    no_console_errors(browser)


def test_two_runs_side_by_side(browser, site, tmp_path):
    mode, url = site
    load(browser, url + "#/compare/r0/r1", "table.compare tbody tr")
    chips = [c.text for c in css(browser, ".chip")]
    assert "only expert resolves: 2" in chips and "only llm resolves: 0" in chips
    assert sorted(tr.get_attribute("data-task") for tr in css(browser, "table.compare tbody tr")) == ["inventory", "running_mean"]
    css(browser, "table.compare tbody tr[data-task=running_mean] a")[0].click()
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 10).until(lambda d: len(css(d, ".side-by-side .episode")) == 2)
    columns = css(browser, ".side-by-side .column")
    assert [c.find_element("css selector", ".badge").text for c in columns] == ["resolved", "unresolved"]
    assert [len(c.find_elements("css selector", ".turn")) for c in columns] == [8, 4]
    no_console_errors(browser)
    screenshot(browser, tmp_path, f"comparison-{mode}")
