"""How fast the viewer's overview renders a large run, in headless Chromium.

    python benchmarks/bench_viewer.py [--episodes 2000] [--reps 5] [--keep DIR]

Builds a run folder of generated episodes (results rows, trajectories, per-turn
records and patches in the layout `gym-pdb eval` writes: six suites, two
agents, a few errors), then times, for the site `gym-pdb view` serves on
loopback and for the one `--export` writes (opened from file://): from the
start of navigation to the end of the overview's rendering (the summary table
and every episode row in the DOM), the median of ``--reps`` fresh loads. Then
one episode page. The goal is an overview within 1 s for 2,000 episodes. It
prints figures; it passes or fails nothing. Needs chromium, chromium-driver
(scripts/ci-browser.sh) and selenium.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gym_pdb.agents.trajectory import write_json  # noqa: E402
from gym_pdb.evaluation.results import RESULTS  # noqa: E402
from gym_pdb.viewer import Runs, export, serve  # noqa: E402

SUITES = ["DebugBench", "HumanEvalBuggy", "MBPPBuggy", "MiniNightmare", "CanItEdit", "HumanEvalFix"]
AGENTS = [("debug_agent", "Qwen3-8B"), ("rewrite_agent", "Qwen3-8B")]
LISTING = "\n".join(f"{n:4d} {'B->' if n == 12 else '   '}     x = f(x, {n})" for n in range(7, 18))


def make_run(root: Path, episodes: int, seed: int = 0) -> Path:
    """A run folder of ``episodes`` generated episodes, split over six suites and two agents."""
    rng = random.Random(seed)
    root.mkdir(parents=True)
    with open(root / RESULTS, "w", encoding="utf-8") as results:
        for i in range(episodes):
            suite = SUITES[i % len(SUITES)]
            agent, model = AGENTS[(i // len(SUITES)) % len(AGENTS)]
            task = f"task_{i:05d}"
            messages, turns, counts = episode(rng, agent)
            resolved = rng.random() < 0.45
            error = "model: the server refused the request (HTTP 400)" if rng.random() < 0.02 else ""
            folder = suite.lower()
            write_json(root / f"trajectories/{folder}/{task}.json", {"messages": messages, "task_id": task})
            write_json(root / f"steps/{folder}/{task}.json", {"version": 1, "task_id": task, "turns": turns})
            (root / f"patches/{folder}").mkdir(parents=True, exist_ok=True)
            (root / f"patches/{folder}/{task}.diff").write_text("--- a/s.py\n+++ b/s.py\n@@ -1 +1 @@\n-x\n+y\n")
            row = {
                "task_id": task, "suite": folder, "env_id": f"PDB-{suite}-v0", "agent": agent, "model": model,
                "resolved": resolved and not error, "steps": len(turns), "turns": len(turns), "max_steps": 50,
                "tool_counts": counts, "tests_passed": 3 if resolved else 1, "tests_total": 3,
                "tokens": {"prompt": 900 * len(turns), "completion": 150 * len(turns)},
                "wall_time": round(rng.uniform(2, 90), 3), "stop_reason": "error" if error else
                ("resolved" if resolved else "max_steps"), "error": error,
                "trajectory": f"trajectories/{folder}/{task}.json", "patch": f"patches/{folder}/{task}.diff",
                "step_log": f"steps/{folder}/{task}.json", "gold_patch": "",
            }  # fmt: skip
            results.write(json.dumps(row) + "\n")
    return root


def episode(rng: random.Random, agent: str) -> tuple[list, list, dict]:
    tools = ["pdb", "view", "eval", "rewrite"] if agent == "debug_agent" else ["view", "eval", "rewrite", "grep"]
    messages = [{"role": "system", "content": "You debug."}, {"role": "user", "content": "Fix the program."}]
    turns, counts = [], {}
    for n in range(1, rng.randint(3, 30)):
        tool = rng.choice(tools)
        counts[tool] = counts.get(tool, 0) + 1
        args = {"command": "p x"} if tool == "pdb" else {}
        messages.append({"role": "assistant", "content": f"Step {n}.", "tool_calls": [
            {"id": f"c{n}", "type": "function", "function": {"name": tool, "arguments": json.dumps(args)}}]})
        messages.append({"role": "tool", "name": tool, "content": f"(1, 2)\nCurrent frame: s.py:12 in f()\n{LISTING}"})
        frame = {"file": "s.py", "line": 12, "function": "f", "listing": LISTING, "first_line": 7} if tool == "pdb" else None
        turns.append({"turn": n, "message": len(messages) - 2, "observation": len(messages) - 1, "step": n,
                      "tool": tool, "arguments": args, "elapsed": 0.01, "frame": frame,
                      "breakpoints": [{"file": "s.py", "line": 12, "cond": None}]})  # fmt: skip
    return messages, turns, counts


def browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1360,900"):
        options.add_argument(arg)
    return webdriver.Chrome(service=Service(shutil.which("chromedriver") or "/usr/bin/chromedriver"), options=options)


def time_page(driver, url: str, mark: str, reps: int) -> list[float]:
    """ms from the start of navigation to ``window[mark]`` (set by the page when it has rendered)."""
    times = []
    for _ in range(reps):
        driver.get("about:blank")
        driver.get(url)
        deadline = time.monotonic() + 30
        while (value := driver.execute_script(f"return window.{mark}")) is None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"{url} did not render")
            time.sleep(0.01)
        times.append(value)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=2000)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--keep", help="build the run and the export in this folder (kept)")
    args = parser.parse_args()
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-viewer-"))
    try:
        tick = time.perf_counter()
        run = make_run(work / "run", args.episodes)
        print(f"built a run of {args.episodes} episodes in {time.perf_counter() - tick:.1f} s")
        runs = Runs([run])
        tick = time.perf_counter()
        index = export(runs, work / "site")
        print(f"exported the site in {time.perf_counter() - tick:.1f} s; data/index.js is "
              f"{(work / 'site/data/index.js').stat().st_size / 1e6:.2f} MB")  # fmt: skip
        server = serve(runs)
        driver = browser()
        try:
            for name, url in (("served", server.url), ("exported (file://)", index.as_uri())):
                times = time_page(driver, url, "__gymPdbOverviewRendered", args.reps)
                rows = driver.execute_script("return document.getElementById('count').textContent")
                print(f"overview, {name}: {statistics.median(times):.0f} ms median to render it ({rows}) "
                      f"(min {min(times):.0f}, max {max(times):.0f}, {args.reps} loads)")  # fmt: skip
            driver.get(server.url + "#/episode/r0/debugbench/task_00000")
            tick = time.perf_counter()
            while not driver.execute_script("return document.querySelectorAll('.turn').length"):
                time.sleep(0.01)
            print(f"episode page (served, after the overview): {1000 * (time.perf_counter() - tick):.0f} ms")
        finally:
            driver.quit()
            server.shutdown()
            server.server_close()
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
