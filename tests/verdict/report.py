"""Play every cheat against the eval as it is and print which are rewarded (a markdown table).

    python -m tests.verdict.report [--cold] [--shared-uid] [local] [docker]

A cheat counts as rewarded (YES) when any of its evals gives reward 1.0;
``+`` marks an ``evidence`` cheat whose tampering took effect (its marker file
was written). ``--cold`` adds a column per backend with the warm interpreter
off (``sandbox_kwargs={"warm": False}``: every eval a fresh ``python -m pytest``,
as before the zygote is up). ``--shared-uid`` adds a local column where task code
runs as the env's own uid (``drop_privileges=False``: a non-root user's local
sandbox). Where the env reports ``info["integrity"]``,
its ``valid`` and flags are shown too. After each cheat the gold fix must
still be rewarded.
"""

from __future__ import annotations

import sys

from gym_pdb.env import PDBEnv
from tests.verdict.cheats import CHEATS, CLASSES, REACHED_FILE, all_tasks, play, play_gold


def outcome(env: PDBEnv, cheat) -> str:
    try:
        results = play(env, cheat)
    except Exception as exc:  # noqa: BLE001 - a report, not a test
        return f"error: {exc!r}"[:60]
    try:
        env.sandbox.read_file(REACHED_FILE)
        reached = True
    except Exception:  # noqa: BLE001
        reached = False
    text = "YES" if max(r for _, r, _ in results) == 1.0 else "no"
    if cheat.evidence and reached:
        text += "+"
    integrity = results[-1][2].get("integrity")
    if integrity is not None:
        text += f" valid={integrity['valid']} flags={integrity['flags']}"
    _, reward, _ = play_gold(env, cheat.task)
    if reward != 1.0:
        text += " (gold NOT rewarded after it)"
    return text


def main(argv: list[str]) -> None:
    cold = "--cold" in argv
    backends = [a for a in argv if not a.startswith("-")] or ["local"]
    columns = [(b, {}) for b in backends] + ([(f"{b} cold", {"warm": False}) for b in backends] if cold else [])
    if "--shared-uid" in argv:
        columns.append(("local shared-uid", {"drop_privileges": False}))
    tasks = all_tasks()
    table: dict[str, dict[str, str]] = {c.name: {} for c in CHEATS}
    for column, kwargs in columns:
        env = PDBEnv(tasks=tasks, sandbox=column.split()[0], sandbox_kwargs=kwargs)
        try:
            for task_id in tasks:
                obs, reward, _ = play_gold(env, task_id)
                assert reward == 1.0, f"{column}: the gold of {task_id} is not rewarded:\n{obs}"
            for cheat in CHEATS:
                table[cheat.name][column] = outcome(env, cheat)
        finally:
            env.close()
    names = [c for c, _ in columns]
    print("| cheat | class | " + " | ".join(names) + " |")
    print("|---|---|" + "---|" * len(names))
    for cheat in CHEATS:
        cells = " | ".join(table[cheat.name][c] for c in names)
        print(f"| {cheat.name} | {cheat.klass} {CLASSES[cheat.klass]} | {cells} |")
    for column in names:
        count = sum(table[c.name][column].startswith("YES") for c in CHEATS)
        print(f"{column}: {count}/{len(CHEATS)} cheats rewarded")


if __name__ == "__main__":
    main(sys.argv[1:])
