"""gym-pdb beside debug-gym (microsoft/debug-gym), the environment SWE-PDB is built on.

    bash benchmarks/setup_debug_gym.sh          # once: debug-gym 1.3 in its own venv
    python benchmarks/compare_debug_gym.py [--reps 20] [--sandbox local|docker|both]

In one run on this machine, on the Mini Nightmare tasks, the same operations
for both systems, each with its own backend (local, and Docker where dockerd
runs): reset (with the initial eval debug-gym does by default, without it, and
with debug-gym's listdir tool, whose setup runs apt-get at every reset), a pdb
``p``, ``b file:line``, ``c`` to that breakpoint, ``p var`` there, view, eval,
a one-line rewrite/edit with the pdb restart, and a scripted episode. Beside
them, the floor: a bare ``python -m pdb`` over pipes and a bare pytest run.
Each operation: a warm-up, then ``--reps`` samples spread over the tasks
(min/median/max). It prints the table with the ratio debug-gym / gym-pdb for
every row and whether gym-pdb meets its goals (at least 10x faster on every
row except eval; eval within 1.2x of the bare pytest run), and writes the
table as JSON and markdown under benchmarks/results/.

debug-gym runs in its own venv ($DEBUG_GYM_VENV, default /opt/debug-gym-venv)
as a subprocess (benchmarks/debug_gym_driver.py); none of its code is here.
Its task code runs with the same interpreter as gym-pdb's (this one, or
GYM_PDB_PYTHON), with pytest plugin autoload off as gym-pdb and the floor
have it, so that neither pays for plugins installed in the venv.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import gym_pdb  # noqa: F401
from gym_pdb.env import PDBEnv
from gym_pdb.sandbox.local_confine import default_python

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_env import HostFloor, stats

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RESULTS = HERE / "results"
DRIVER = HERE / "debug_gym_driver.py"
DEFAULT_VENV = "/opt/debug-gym-venv"
DEBUG_GYM_IMAGE = "debug-gym-bench:mini-nightmare"

#: (key, label). gym-pdb's counterpart of each row is in bench_gym_pdb.
ROWS = [
    ("reset", "reset, with an initial eval"),
    ("reset_no_eval", "reset, no initial eval"),
    ("reset_listdir", "reset + debug-gym's listdir setup (apt-get)"),
    ("pdb_p", "pdb `p 1+1`"),
    ("pdb_b", "pdb `b file:line`"),
    ("pdb_c", "pdb `c` to the breakpoint"),
    ("pdb_p_var", "pdb `p var` at the breakpoint"),
    ("view", "view the program"),
    ("eval", "eval (run the tests)"),
    ("rewrite", "rewrite one line + pdb restart"),
    ("episode", "episode: reset, start, b, c, p, rewrite, eval"),
]
FLOOR_ROWS = [
    ("bare_pdb_start", "bare `python -m pdb`: start to first prompt"),
    ("bare_pdb_p", "bare pdb round trip (`p 1+1`)"),
    ("bare_trace_start", "bare `pytest --trace`: start to first prompt"),
    ("bare_pytest", "bare pytest run"),
    ("gym_pdb_eval_paired", "gym-pdb eval, interleaved with the bare pytest run"),
]
GOAL_SPEEDUP = 10.0
GOAL_EVAL_VS_PYTEST = 1.2
NOTES = {
    "reset": "debug-gym's default reset runs the tests (its eval tool's on_env_reset) and starts pdb; "
    "gym-pdb's reset does neither, so its row is reset + eval",
    "reset_no_eval": "debug-gym with the eval tool unsubscribed from ENV_RESET (reset still starts pdb); gym-pdb's plain reset",
    "reset_listdir": "debug-gym's tools + listdir, whose setup step runs `apt-get update && apt-get install -y tree` at "
    "every reset; gym-pdb's listdir has no setup step (its row is the same as reset, with an initial eval)",
    "pdb_c": "from a fresh session: gym-pdb's pytest session has collected the tests before its first prompt, "
    "debug-gym's `python -m pdb -m pytest` collects them during `c`",
}


# -- the plan: one breakpoint, variable and edit per task, for both systems ------------------------------
def function_params(source: str, with_params: bool = True) -> list[tuple[int, str]]:
    """(first body line, first parameter) of every function with a parameter, by line.

    ``with_params=False``: every function; one without parameters gives its own name
    (a global, so ``p NAME`` works at its first line).
    """
    out = []
    for node in ast.walk(ast.parse(source)):
        if (
            not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            or not node.body
        ):
            continue
        names = [
            a.arg
            for a in [*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs]
        ]
        if not names and with_params:
            continue
        var = next(
            (n for n in names if n not in ("self", "cls")),
            names[0] if names else node.name,
        )
        body = node.body
        if (
            len(body) > 1
            and isinstance(body[0], ast.Expr)
            and isinstance(getattr(body[0], "value", None), ast.Constant)
        ):
            body = body[1:]
        out.append((body[0].lineno, var))
    return sorted(set(out))


def parse_frame(text: str) -> tuple[str, int] | None:
    """'file.py:12 in f()' (info['current_frame']) -> ('file.py', 12)."""
    if not text:
        return None
    where = text.split(" in ", 1)[0]
    path, _, line = where.rpartition(":")
    return (os.path.basename(path), int(line)) if line.isdigit() else None


def pdb_frame(text: str) -> tuple[str, int] | None:
    """The last ``> /path/file.py(12)f()`` line of a pdb reply -> ('file.py', 12): the swe-pdb profile's
    replies are pdb's own, and its info has no ``current_frame``."""
    found = re.findall(r"^> (\S+?)\((\d+)\)", text, flags=re.MULTILINE)
    return (os.path.basename(found[-1][0]), int(found[-1][1])) if found else None


def reached_frame(step: tuple) -> tuple[str, int] | None:
    """Where a ``c`` step stopped: from ``info['current_frame']``, else from the reply itself."""
    return parse_frame(step[-1].get("current_frame", "")) or pdb_frame(step[0])


_COPIES: list[Path] = []


def task_folder(task) -> str:
    """The task's folder as debug-gym reads it (files, .debugignore, .debugreadonly): the suite's own, or a copy."""
    source = (task.metadata or {}).get("source_dir")
    if source and (Path(source) / task.test_files[0]).is_file():
        return str(source)
    folder = Path(tempfile.mkdtemp(prefix=f"compare-debug-gym-{task.id}-"))
    _COPIES.append(folder)
    for path, text in task.files.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_text(text)
    (folder / ".debugignore").write_text("\n".join(task.hidden) + "\n")
    (folder / ".debugreadonly").write_text("\n".join(task.readonly) + "\n")
    return str(folder)


def make_plan(env: PDBEnv, task_ids: list[str]) -> list[dict]:
    """For each task, the breakpoint the first `c` of a fresh pytest session stops at (found with gym-pdb, untimed)."""
    plan = []
    for tid in task_ids:
        task = env.tasks[tid]
        entry = task.entrypoint
        source = task.files[entry]
        # Functions with a parameter first; where the tests reach none of them (a test that fails
        # before, as pandas_dataframe's, which downloads its data), any function.
        for with_params in (True, False):
            candidates = dict(function_params(source, with_params))
            env.reset(options={"task_id": tid})
            env.step("pdb start pytest test.py")
            for line in candidates:
                env.step(f"pdb b {entry}:{line}")
            *_, info = env.step("pdb c")
            frame = parse_frame(info["current_frame"])
            if frame and frame[0] == entry and frame[1] in candidates:
                line, note = frame[1], ""
                break
            line = next(iter(candidates), 1)
            note = f"the first `c` stopped at {info['current_frame'] or 'no frame'}"
        first = source.splitlines()[0] if source else ""
        plan.append({
            "name": tid,
            "codebase": task_folder(task),
            "entry": entry,
            "bp_line": line,
            "var": candidates.get(line, "1"),
            "rewrite_line": 1,
            "rewrite_variants": [first + "  # a", first + "  # b"],
            "note": note,
        })  # fmt: skip
    return plan


# -- gym-pdb ------------------------------------------------------------------------------------------
def _record(
    samples: dict, op: str, task: str, fn, warmup: int, reps: int, setup=None
) -> None:
    out = []
    for i in range(warmup + reps):
        if setup is not None:
            setup()
        start = time.perf_counter()
        fn()
        elapsed = time.perf_counter() - start
        if i >= warmup:
            out.append(elapsed)
    samples.setdefault(op, {})[task] = out


def open_env(
    sandbox: str, suite: str = "MiniNightmare", task_id: str | None = None, profile: str = "gym-pdb"
) -> PDBEnv:
    """One env per backend for the whole run, as a user keeps one: its sandbox (and warm interpreter) up."""
    env = PDBEnv(suite=suite, sandbox=sandbox, profile=profile)
    env.reset(options={"task_id": task_id} if task_id else None)
    env.sandbox.wait_warm(120)
    return env


def bench_gym_pdb(plan: list[dict], env: PDBEnv, warmup: int, reps: int, ops: set[str]) -> dict:
    """gym-pdb's side: the same operations as debug_gym_driver.py, through PDBEnv.step."""
    result: dict = {"samples": {}, "checks": {"c_reached": {}, "p_var": {}}}
    for task in plan:
        _gym_pdb_task(env, task, warmup, reps, ops, result)
    return result


def _gym_pdb_task(
    env: PDBEnv, task: dict, warmup: int, reps: int, ops: set[str], result: dict
) -> None:
    samples, checks = result["samples"], result["checks"]
    tid, entry, var = task["name"], task["entry"], task["var"]
    bp = f"{entry}:{task['bp_line']}"
    line, variants = task["rewrite_line"], task["rewrite_variants"]
    step = env.step

    def reset():
        env.reset(options={"task_id": tid})

    def rewrite(code):
        return step(
            {
                "name": "rewrite",
                "arguments": {
                    "path": entry,
                    "start": line,
                    "end": line,
                    "new_code": code,
                },
            }
        )

    def record(op, fn, setup=None):
        if op in ops:
            _record(samples, op, tid, fn, warmup, reps, setup)

    record("reset", lambda: (reset(), step("eval")))
    record("reset_no_eval", reset)
    reset()
    step("pdb start pytest test.py")
    record("pdb_p", lambda: step("pdb p 1+1"))
    record("pdb_b", lambda: step(f"pdb b {bp}"), setup=lambda: step(f"pdb cl {bp}"))
    step(f"pdb cl {bp}")
    step(f"pdb b {bp}")
    reached = checks["c_reached"].setdefault(tid, [])
    record("pdb_c", lambda: reached.append(reached_frame(step("pdb c"))),
           setup=lambda: step("pdb start pytest test.py"))  # fmt: skip
    step("pdb start pytest test.py")
    step("pdb c")
    shown = []
    record("pdb_p_var", lambda: shown.append(step(f"pdb p {var}")[0]))
    checks["p_var"][tid] = shown[-1][:300] if shown else ""
    record("view", lambda: step(f"view {entry}"))
    record("eval", lambda: step("eval"))
    flip = iter(range(10**9))
    record("rewrite", lambda: rewrite(variants[next(flip) % 2]))

    def episode():
        reset()
        step("pdb start pytest test.py")
        step(f"pdb b {bp}")
        step("pdb c")
        step(f"pdb p {var}")
        rewrite(variants[0])
        step("eval")

    record("episode", episode)
    if "reset_listdir" in ops and "reset" in samples:
        # gym-pdb's listdir needs no setup: the same reset as with an initial eval.
        samples.setdefault("reset_listdir", {})[tid] = samples["reset"][tid]


# -- the floor ----------------------------------------------------------------------------------------
def bench_floor(plan: list[dict], suite: str, warmup: int, reps: int, gym_env: PDBEnv | None = None) -> dict:
    """A bare `python -m pdb` over pipes and a bare pytest run, on a copy of each task (no sandbox).

    The bare pytest run is timed interleaved with gym-pdb's eval of the same task (in ``gym_env``;
    order alternating), so that both see the same load: the eval goal is the ratio of those two medians.
    """
    tasks = PDBEnv(suite=suite).tasks
    samples: dict = {}
    for item in plan:
        task = tasks[item["name"]]
        floor = HostFloor(task, python=default_python())
        try:
            _floor_task(floor, task, item["entry"], gym_env, warmup, reps, samples)
        finally:
            floor.close()
    return {"samples": samples}


def _floor_task(floor: HostFloor, task, entry: str, gym_env: PDBEnv | None, warmup: int, reps: int, samples: dict) -> None:
    tid = task.id
    pytest_args = ["-m", "pytest", "-q", "-p", "no:cacheprovider"]
    pdb_args = ["-m", "pdb", entry]
    trace_args = [*pytest_args, "--trace", *task.test_files]
    _record(samples, "bare_pdb_start", tid, lambda: floor.stop(floor.start(pdb_args)), warmup, reps)
    _record(samples, "bare_trace_start", tid, lambda: floor.stop(floor.start(trace_args)), warmup, reps)
    proc = floor.start(pdb_args)
    try:
        _record(samples, "bare_pdb_p", tid, lambda: floor.command(proc, b"p 1+1\n"), warmup, reps)
    finally:
        floor.stop(proc)

    def bare_pytest():
        floor.run([*pytest_args, *task.test_files])

    if gym_env is None:
        _record(samples, "bare_pytest", tid, bare_pytest, warmup, reps)
        return
    gym_env.reset(options={"task_id": tid})
    pair = {
        "bare_pytest": bare_pytest,
        "gym_pdb_eval_paired": lambda: gym_env.step("eval"),
    }
    for i in range(warmup + reps):
        for op in sorted(pair) if i % 2 else sorted(pair, reverse=True):
            start = time.perf_counter()
            pair[op]()
            elapsed = time.perf_counter() - start
            if i >= warmup:
                samples.setdefault(op, {}).setdefault(tid, []).append(elapsed)


# -- debug-gym, in its own venv -------------------------------------------------------------------------
def debug_gym_python(venv: str | None = None) -> Path:
    return (
        Path(venv or os.environ.get("DEBUG_GYM_VENV") or DEFAULT_VENV)
        / "bin"
        / "python"
    )


def bench_debug_gym(plan: list[dict], terminal: str, warmup: int, reps: int, ops: set[str], venv: str | None = None,
                    image: str = DEBUG_GYM_IMAGE, timeout: float = 3600) -> dict:  # fmt: skip
    python = debug_gym_python(venv)
    spec = {
        "terminal": terminal,
        "image": image,
        "task_python": default_python() if terminal == "local" else "",
        "run_timeout": 30,  # debug-gym's configs/mini_nightmare.yaml
        "warmup": warmup,
        "reps_per_task": reps,
        "ops": sorted(ops),
        "tasks": plan,
    }
    with tempfile.TemporaryDirectory(prefix="compare-debug-gym-") as tmp:
        plan_path, out_path = Path(tmp) / "plan.json", Path(tmp) / "out.json"
        plan_path.write_text(json.dumps(spec))
        env = {
            **os.environ,
            "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
            "LITELLM_LOCAL_MODEL_COST_MAP": "True",
        }
        run = subprocess.run([str(python), str(DRIVER), str(plan_path), str(out_path)], env=env,
                             capture_output=True, text=True, timeout=timeout, check=False)  # fmt: skip
        if run.returncode != 0 or not out_path.exists():
            raise RuntimeError(
                f"debug_gym_driver.py failed ({run.returncode}):\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
            )
        return json.loads(out_path.read_text())


def merge(into: dict, part: dict) -> None:
    """Add one task's samples and checks (op -> task -> values) to the run's."""
    for section in ("samples", "checks"):
        for op, per_task in (part.get(section) or {}).items():
            into.setdefault(section, {}).setdefault(op, {}).update(per_task)


# -- the report ---------------------------------------------------------------------------------------
def pooled(samples: dict, op: str) -> dict | None:
    values = [x for per_task in samples.get(op, {}).values() for x in per_task]
    if not values:
        return None
    s = stats(values)
    return {
        "min": s["min"],
        "median": s["p50"],
        "max": s["max"],
        "mean": sum(values) * 1000 / len(values),
        "n": s["n"],
    }


def summarize(gym: dict, dg: dict | None, floor: dict | None) -> dict:
    rows = []
    for key, label in ROWS:
        g = pooled(gym["samples"], key)
        d = pooled(dg["samples"], key) if dg else None
        ratio = d["median"] / g["median"] if g and d and g["median"] > 0 else None
        mean_ratio = d["mean"] / g["mean"] if g and d and g["mean"] > 0 else None
        goal = None
        if key != "eval" and ratio is not None:
            goal = ratio >= GOAL_SPEEDUP
        rows.append({"key": key, "label": label, "gym_pdb": g, "debug_gym": d, "ratio": ratio,
                     "mean_ratio": mean_ratio, "goal_10x": goal, "note": NOTES.get(key, "")})  # fmt: skip
    floor_rows = []
    if floor:
        for key, label in FLOOR_ROWS:
            floor_rows.append(
                {"key": key, "label": label, "stats": pooled(floor["samples"], key)}
            )
    eval_vs_pytest = None
    paired = pooled(floor["samples"], "gym_pdb_eval_paired") if floor else None
    bare = pooled(floor["samples"], "bare_pytest") if floor else None
    if paired and bare:
        eval_vs_pytest = paired["median"] / bare["median"]
    misses = [r["label"] for r in rows if r["goal_10x"] is False]
    return {
        "rows": rows,
        "floor": floor_rows,
        "eval_vs_bare_pytest": eval_vs_pytest,
        "goal_eval_met": None
        if eval_vs_pytest is None
        else eval_vs_pytest <= GOAL_EVAL_VS_PYTEST,
        "goal_10x_misses": misses,
        "goal_10x_met": None if not dg else not misses,
    }


def fmt_ms(s: dict | None) -> str:
    if not s:
        return "-"

    def one(x):
        return f"{x:.1f}" if x >= 10 else f"{x:.2f}" if x >= 1 else f"{x:.3f}"

    return f"{one(s['min'])} / {one(s['median'])} / {one(s['max'])}"


def markdown(report: dict) -> str:
    meta = report["meta"]
    head = (
        f"Measured {meta['date']} on {meta['machine']}; load average {meta['load_before'][0]:.2f} before, "
        f"{meta['load_after'][0]:.2f} after; debug-gym {meta.get('debug_gym_version', '-')} "
        f"(Python {meta.get('debug_gym_python', '-')}), task code on Python {meta['task_python_version']}; "
        f"{meta['reps']} samples per row after a warm-up, spread over {len(meta['tasks'])} Mini Nightmare tasks. "
        "Times in ms, min / median / max. The goal is on the ratio of medians."
    )
    lines = [head, ""]
    floor_shown = False
    for sandbox, summary in report["sandboxes"].items():
        lines += [f"**{sandbox} backend**", "",
                  "| operation | gym-pdb | debug-gym | debug-gym / gym-pdb: medians (means) |", "|---|---|---|---|"]  # fmt: skip
        for r in summary["rows"]:
            ratio = f"{r['ratio']:.1f}x" if r["ratio"] is not None else "-"
            if r.get("mean_ratio") is not None:
                ratio += f" ({r['mean_ratio']:.1f}x)"
            if r["goal_10x"] is False:
                ratio += ", goal 10x missed"
            lines.append(
                f"| {r['label']} | {fmt_ms(r['gym_pdb'])} | {fmt_ms(r['debug_gym'])} | {ratio} |"
            )
        if summary["floor"] and not floor_shown:
            floor_shown = True
            lines += ["", "| floor (bare, no sandbox) | time |", "|---|---|"]
            for f in summary["floor"]:
                lines.append(f"| {f['label']} | {fmt_ms(f['stats'])} |")
        if summary["eval_vs_bare_pytest"] is not None and sandbox == meta.get(
            "floor_eval_backend", sandbox
        ):
            verdict = "met" if summary["goal_eval_met"] else "missed"
            backend = meta.get("floor_eval_backend", "local")
            ratio = summary["eval_vs_bare_pytest"]
            text = (
                f"gym-pdb eval ({backend}) / bare pytest run (medians, timed interleaved): {ratio:.2f}x "
                f"(goal <= {GOAL_EVAL_VS_PYTEST}: {verdict})."
            )
            lines += ["", text]
        if summary["goal_10x_met"] is not None:
            if lines[-1]:
                lines.append("")
            if summary["goal_10x_met"]:
                lines.append(
                    "gym-pdb is at least 10x faster than debug-gym on every row except eval: met."
                )
            else:
                lines.append(
                    "At least 10x faster on every row except eval: missed on "
                    + "; ".join(summary["goal_10x_misses"])
                    + "."
                )
        lines.append("")
    return "\n".join(lines)


def compact_markdown(report: dict) -> str:
    """Medians only, the backends side by side: the table of the project's README."""
    meta = report["meta"]
    sandboxes = list(report["sandboxes"])
    lines = [
        f"Measured {meta['date']} on {meta['machine']} (load average {meta['load_before'][0]:.1f} before, "
        f"{meta['load_after'][0]:.1f} after); debug-gym {meta.get('debug_gym_version', '-')}; medians in ms "
        f"of {meta['reps']} samples over {len(meta['tasks'])} Mini Nightmare tasks.",
        "",
        "| operation | " + " | ".join(f"{sb}: gym-pdb | debug-gym | speed-up" for sb in sandboxes) + " |",
        "|---|" + "---|---|---|" * len(sandboxes),
    ]

    def cell(stats: dict | None) -> str:
        return "-" if not stats else fmt_ms(stats).split(" / ")[1]

    for i, (_, label) in enumerate(ROWS):
        cells = []
        for sb in sandboxes:
            r = report["sandboxes"][sb]["rows"][i]
            ratio = "-" if r["ratio"] is None else f"{r['ratio']:.1f}x" + (" (missed)" if r["goal_10x"] is False else "")
            cells += [cell(r["gym_pdb"]), cell(r["debug_gym"]), ratio]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    lines.append("")
    for sb in sandboxes:
        summary = report["sandboxes"][sb]
        verdict = {True: "met", False: "missed on " + "; ".join(summary["goal_10x_misses"]), None: "-"}
        lines.append(f"- {sb}: 10x on every row but eval: {verdict[summary['goal_10x_met']]}.")
        if summary["eval_vs_bare_pytest"] is not None and sb == meta.get("floor_eval_backend", sb):
            lines.append(
                f"- {sb}: eval / bare pytest run, timed interleaved: {summary['eval_vs_bare_pytest']:.2f}x "
                f"(goal <= {GOAL_EVAL_VS_PYTEST})."
            )
    return "\n".join(lines) + "\n"


def update_readme(path: Path, text: str) -> None:
    """Replace what lies between this script's markers in ``path`` with ``text``."""
    begin, end = "<!-- compare_debug_gym: begin -->", "<!-- compare_debug_gym: end -->"
    doc = path.read_text()
    if begin not in doc or end not in doc:
        raise SystemExit(f"{path} has no {begin} ... {end} block")
    head, rest = doc.split(begin, 1)
    _, tail = rest.split(end, 1)
    path.write_text(f"{head}{begin}\n{text.strip()}\n{end}{tail}")


def write_readmes(report: dict) -> None:
    update_readme(REPO / "README.md", compact_markdown(report))
    update_readme(REPO / "benchmarks" / "README.md", markdown(report))
    print("tables written into README.md and benchmarks/README.md")


def print_table(report: dict) -> None:
    print(markdown(report))
    for sandbox, res in report["raw"].items():
        for system in ("gym_pdb", "debug_gym"):
            checks = (res.get(system) or {}).get("checks", {})
            reached = checks.get("c_reached", {})
            for task, frames in reached.items():
                expected = next((t for t in report["plan"] if t["name"] == task), None)
                want = [expected["entry"], expected["bp_line"]] if expected else None
                bad = [f for f in frames if f is None or list(f) != want]
                if bad:
                    print(
                        f"check: {sandbox}/{system}/{task}: `c` stopped at {bad[0]} instead of {want}"
                    )
        errors = (res.get("debug_gym") or {}).get("errors") or []
        for err in errors:
            print(f"debug-gym error ({sandbox}): {err}")


def docker_ready(image: str | None = None) -> str | None:
    """Why Docker rows cannot run here, or None."""
    try:
        import docker

        client = docker.from_env(timeout=10)
        client.ping()
        if image:
            client.images.get(image)
        client.close()
    except Exception as exc:  # noqa: BLE001
        return str(exc).splitlines()[0][:200]
    return None


def render(saved: Path, out: Path, readme: bool = False) -> int:
    """Recompute the summaries from a saved run's samples and write the tables again."""
    report = json.loads(saved.read_text())
    for sandbox, raw in report["raw"].items():
        floor = raw.get("floor") or next(
            (r["floor"] for r in report["raw"].values() if r.get("floor")), None
        )
        report["sandboxes"][sandbox] = summarize(
            raw["gym_pdb"], raw.get("debug_gym"), floor
        )
    print_table(report)
    out.mkdir(parents=True, exist_ok=True)
    (out / "compare_debug_gym.json").write_text(json.dumps(report, indent=1))
    (out / "compare_debug_gym.md").write_text(markdown(report))
    if readme:
        write_readmes(report)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--reps",
        type=int,
        default=20,
        help="samples per operation, spread over the tasks",
    )
    parser.add_argument(
        "--warmup",
        type=int,
        default=1,
        help="untimed runs of each operation on each task first",
    )
    parser.add_argument(
        "--tasks",
        default="all",
        help="comma-separated Mini Nightmare task ids, or 'all'",
    )
    parser.add_argument(
        "--sandbox", choices=["local", "docker", "both"], default="local"
    )
    parser.add_argument("--suite", default="MiniNightmare")
    parser.add_argument(
        "--profile", choices=["gym-pdb", "swe-pdb"], default="gym-pdb", help="gym-pdb's env in this profile"
    )
    parser.add_argument(
        "--debug-gym-venv",
        default=None,
        help=f"default: $DEBUG_GYM_VENV or {DEFAULT_VENV}",
    )
    parser.add_argument(
        "--no-debug-gym", action="store_true", help="gym-pdb and the floor only"
    )
    parser.add_argument(
        "--no-listdir",
        action="store_true",
        help="skip the reset with debug-gym's listdir (apt-get)",
    )
    parser.add_argument(
        "--out", default=str(RESULTS), help="folder for compare_debug_gym.{json,md}"
    )
    parser.add_argument(
        "--readme",
        action="store_true",
        help="also write the tables into README.md and benchmarks/README.md (between their markers)",
    )
    parser.add_argument(
        "--render",
        metavar="JSON",
        help="measure nothing: rebuild the tables from a saved compare_debug_gym.json",
    )
    args = parser.parse_args(argv)
    if args.render:
        return render(Path(args.render), Path(args.out), args.readme)

    probe = PDBEnv(suite=args.suite)
    task_ids = (
        probe.task_ids
        if args.tasks == "all"
        else [t.strip() for t in args.tasks.split(",") if t.strip()]
    )
    reps_per_task = max(1, -(-args.reps // len(task_ids)))
    ops = {key for key, _ in ROWS}
    if args.no_listdir:
        ops.discard("reset_listdir")
    sandboxes = ["local", "docker"] if args.sandbox == "both" else [args.sandbox]
    with_debug_gym = not args.no_debug_gym
    if with_debug_gym and not debug_gym_python(args.debug_gym_venv).exists():
        print(
            f"debug-gym's venv is missing ({debug_gym_python(args.debug_gym_venv)}): run benchmarks/setup_debug_gym.sh"
        )
        return 2

    load_before = os.getloadavg()
    plan = make_plan(probe, task_ids)
    probe.close()
    python = default_python()
    version = subprocess.run([python, "-c", "import platform; print(platform.python_version())"],
                             capture_output=True, text=True, check=False).stdout.strip()  # fmt: skip
    report = {
        "meta": {
            "date": time.strftime("%Y-%m-%d %H:%M %Z"),
            "machine": f"{platform.node()}, {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}",
            "load_before": load_before,
            "task_python": python,
            "task_python_version": version,
            "reps": reps_per_task * len(task_ids),
            "warmup": args.warmup,
            "tasks": task_ids,
        },
        "plan": plan,
        "raw": {},
        "sandboxes": {},
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    def save() -> None:
        report["meta"]["load_after"] = os.getloadavg()
        (out / "compare_debug_gym.json").write_text(json.dumps(report, indent=1))
        (out / "compare_debug_gym.md").write_text(markdown(report))

    floor = None
    for sandbox in sandboxes:
        try:
            floor = run_backend(
                sandbox, plan, args, ops, reps_per_task, with_debug_gym, report, floor
            )
        except Exception as exc:  # noqa: BLE001 - report it, keep the other backend's rows
            import traceback

            traceback.print_exc()
            report.setdefault("failed", {})[sandbox] = f"{type(exc).__name__}: {exc}"
        save()
    for folder in _COPIES:
        shutil.rmtree(folder, ignore_errors=True)
    print_table(report)
    print(f"written: {out / 'compare_debug_gym.json'}, {out / 'compare_debug_gym.md'}")
    if args.readme:
        write_readmes(report)
    return 0


def run_backend(sandbox, plan, args, ops, reps_per_task, with_debug_gym, report, floor):
    """One backend's rows, task by task; returns the floor (measured with the first backend)."""
    if sandbox == "docker":
        problem = docker_ready()
        if problem:
            print(f"(no Docker rows: {problem})")
            return floor
    dg_here = with_debug_gym
    if dg_here and sandbox == "docker":
        problem = docker_ready(DEBUG_GYM_IMAGE)
        if problem:
            print(
                f"(no debug-gym Docker rows: {problem}; run benchmarks/setup_debug_gym.sh with dockerd up)"
            )
            dg_here = False
    gym = {"samples": {}, "checks": {}}
    dg = {"samples": {}, "checks": {}, "errors": []} if dg_here else None
    need_floor = floor is None
    if need_floor:
        report["meta"]["floor_eval_backend"] = sandbox
    floor = floor or {"samples": {}}
    seconds = {"gym_pdb": 0.0, "floor": 0.0, "debug_gym": 0.0}
    env = open_env(sandbox, args.suite, plan[0]["name"], args.profile)
    try:
        # Task by task, the three parts back to back, so that a change of load hits them alike.
        for item in plan:
            print(f"[{sandbox}] {item['name']}: gym-pdb", file=sys.stderr, flush=True)
            t0 = time.perf_counter()
            merge(
                gym,
                bench_gym_pdb([item], env, args.warmup, reps_per_task, ops),
            )
            seconds["gym_pdb"] += time.perf_counter() - t0
            if need_floor:
                print(f"[{sandbox}] {item['name']}: floor", file=sys.stderr, flush=True)
                t0 = time.perf_counter()
                merge(
                    floor,
                    bench_floor([item], args.suite, args.warmup, reps_per_task, env),
                )
                seconds["floor"] += time.perf_counter() - t0
            if dg is not None:
                print(f"[{sandbox}] {item['name']}: debug-gym", file=sys.stderr, flush=True)
                t0 = time.perf_counter()
                part = bench_debug_gym(
                    [item], sandbox, args.warmup, reps_per_task, ops, args.debug_gym_venv
                )
                seconds["debug_gym"] += time.perf_counter() - t0
                merge(dg, part)
                dg["errors"] += part.get("errors") or []
                report["meta"]["debug_gym_version"] = part.get("version")
                report["meta"]["debug_gym_python"] = part.get("python")
            report["raw"][sandbox] = {"gym_pdb": gym, "debug_gym": dg, "floor": floor if need_floor else None,
                                      "seconds": seconds, "load_after": os.getloadavg()}  # fmt: skip
            report["sandboxes"][sandbox] = summarize(gym, dg, floor)
    finally:
        env.close()
    return floor


if __name__ == "__main__":
    raise SystemExit(main())
