"""The local sandbox, with real processes."""

from __future__ import annotations

import gc
import json
import os
import time

import pytest

from gym_pdb.sandbox.base import Limits, SandboxError
from gym_pdb.sandbox.bwrap import bwrap_problem
from gym_pdb.sandbox.local import LocalSandbox
from gym_pdb.sandbox.warm import ForkedChild
from tests.conftest import own_processes, require

IS_ROOT = os.geteuid() == 0


@pytest.fixture
def sandbox():
    sb = LocalSandbox(limits=Limits(memory_bytes=1024**3, processes=64))
    sb.reset_workspace({"prog.py": b"print('hi')\n", "test.py": b"def test_x():\n    pass\n"}, readonly=["test.py"])
    yield sb
    sb.close()


def test_run_reports_output_and_exit_code(sandbox):
    result = sandbox.run(["python", "prog.py"], timeout=10)
    assert result.exit_code == 0 and result.text == "hi\n" and not result.timed_out
    failing = sandbox.run(["python", "-c", "import sys; print('x'); sys.exit(3)"], timeout=10)
    assert failing.exit_code == 3 and failing.text == "x\n"


def test_environment_is_scrubbed(sandbox, monkeypatch):
    monkeypatch.setenv("GYM_PDB_SECRET_TOKEN", "do-not-leak")
    result = sandbox.run(["python", "-c", "import os; print(sorted(os.environ))"], timeout=10)
    assert "GYM_PDB_SECRET_TOKEN" not in result.text
    assert "'PYTHONUNBUFFERED'" in result.text


@pytest.mark.skipif(not IS_ROOT, reason="dropping privileges needs root")
def test_runs_as_an_unprivileged_uid(sandbox):
    result = sandbox.run(["python", "-c", "import os; print(os.getuid(), os.getgid())"], timeout=10)
    uid, gid = map(int, result.text.split())
    assert uid == sandbox.uid and uid >= 200_000 and gid == uid


def test_network_is_cut(sandbox):
    result = sandbox.run(["python", "-c", "print(open('/proc/net/dev').read())"], timeout=10)
    interfaces = {line.split(":")[0].strip() for line in result.text.splitlines()[2:] if ":" in line}
    assert interfaces == {"lo"}
    connect = sandbox.run(
        ["python", "-c", "import socket; socket.create_connection(('1.1.1.1', 53), timeout=2)"], timeout=10
    )
    assert connect.exit_code != 0 and "unreachable" in connect.text.lower()


def test_timeout_kills_the_whole_process_group(sandbox):
    code = "import subprocess, time; subprocess.Popen(['sleep', '300']); time.sleep(300)"
    start = time.monotonic()
    result = sandbox.run(["python", "-c", code], timeout=1)
    assert result.timed_out and result.exit_code is None
    assert time.monotonic() - start < 5
    time.sleep(0.2)
    if sandbox.uid is not None:
        assert own_processes(sandbox.uid) == []


def test_huge_output_is_cut_keeping_head_and_tail(sandbox):
    code = "import sys; sys.stdout.write('BEGIN' + 'x' * 10_000_000 + 'END')"
    result = sandbox.run(["python", "-c", code], timeout=30, output_limit=64 * 1024)
    assert result.truncated and len(result.output) < 70 * 1024
    assert result.text.startswith("BEGIN") and result.text.endswith("END")
    assert "bytes of output cut" in result.text


def test_cpu_time_limit_stops_a_busy_loop():
    sb = LocalSandbox(limits=Limits(cpu_seconds=1))
    try:
        result = sb.run(["python", "-c", "while True: pass"], timeout=20)
        assert not result.timed_out and result.exit_code != 0
    finally:
        sb.close()


def test_memory_hog_is_contained(sandbox):
    result = sandbox.run(["python", "-c", "x = bytearray(8 * 1024**3)"], timeout=20)
    assert result.exit_code != 0 and "MemoryError" in result.text
    assert sandbox.run(["python", "prog.py"], timeout=10).text == "hi\n"


@pytest.mark.skipif(not IS_ROOT, reason="the process limit holds only for an unprivileged uid")
def test_fork_bomb_is_contained(sandbox):
    bomb = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    result = sandbox.run(["python", "-c", bomb], timeout=3)
    assert result.timed_out
    sandbox.reset_workspace({"prog.py": b"print('alive')\n"})
    assert own_processes(sandbox.uid) == []
    assert sandbox.run(["python", "prog.py"], timeout=10).text == "alive\n"


def test_file_size_limit():
    sb = LocalSandbox(limits=Limits(file_size_bytes=1024**2))
    try:
        result = sb.run(["python", "-c", "open('big', 'wb').write(b'x' * 10 * 1024**2)"], timeout=20)
        assert result.exit_code != 0
        assert os.path.getsize(os.path.join(sb.workdir, "big")) <= 1024**2
    finally:
        sb.close()


@pytest.mark.skipif(not IS_ROOT, reason="file ownership needs root")
def test_readonly_files_cannot_be_changed_or_replaced(sandbox):
    for code in (
        "open('test.py', 'w').write('x')",
        "import os; os.remove('test.py')",
        "import os; os.rename('prog.py', 'test.py')",
        "import os; os.chmod('test.py', 0o666)",
    ):
        result = sandbox.run(["python", "-c", code], timeout=10)
        assert result.exit_code != 0, code
    assert sandbox.read_file("test.py") == b"def test_x():\n    pass\n"
    assert sandbox.run(["python", "-c", "open('prog.py', 'a').write('#')"], timeout=10).exit_code == 0


def test_paths_outside_the_workspace_are_refused(sandbox):
    for path in ("../x", "/etc/passwd", "a/../../x"):
        with pytest.raises(ValueError):
            sandbox.write_file(path, b"x")
        with pytest.raises(ValueError):
            sandbox.read_file(path)


def test_write_does_not_follow_a_planted_link(sandbox, tmp_path):
    target = tmp_path / "outside.txt"
    target.write_text("untouched")
    os.symlink(target, os.path.join(sandbox.workdir, "prog.py.link"))
    sandbox.write_file("prog.py.link", b"new")
    assert target.read_text() == "untouched"
    assert sandbox.read_file("prog.py.link") == b"new"


def test_spawn_reads_to_a_marker_and_times_out(sandbox):
    proc = sandbox.spawn(["python", "-c", "import sys\nfor line in sys.stdin:\n    print(line.strip().upper(), end='<END>', flush=True)\n"])
    proc.write(b"hello\n")
    assert proc.read_until(b"<END>", 5, 4096) == (b"HELLO", True)
    start = time.monotonic()
    data, found = proc.read_until(b"<END>", 0.3, 4096)
    assert (data, found) == (b"", False) and 0.25 < time.monotonic() - start < 2
    proc.kill()
    assert not proc.alive()
    with pytest.raises(SandboxError):
        proc.write(b"more\n")


def test_reset_workspace_replaces_everything(sandbox):
    sandbox.run(["python", "-c", "open('junk.txt', 'w').write('x')"], timeout=10)
    sandbox.reset_workspace({"new.py": b"print(1)\n"})
    assert sorted(os.listdir(sandbox.workdir)) == ["new.py"]


def test_close_leaves_nothing_behind():
    sb = LocalSandbox()
    sb.reset_workspace({"prog.py": b"import time\ntime.sleep(300)\n"})
    proc = sb.spawn(["python", "prog.py"])
    sb.run(["sh", "-c", "setsid sleep 300 > /dev/null 2>&1 &"], timeout=5)
    root, uid = sb.root, sb.uid
    sb.close()
    sb.close()
    assert not os.path.exists(root)
    assert not proc.alive()
    if uid is not None:
        assert own_processes(uid) == []
    with pytest.raises(SandboxError):
        sb.run(["true"], timeout=1)


def test_garbage_collection_cleans_up():
    sb = LocalSandbox()
    sb.reset_workspace({"prog.py": b"import time\ntime.sleep(300)\n"})
    sb.spawn(["python", "prog.py"])
    root, uid = sb.root, sb.uid
    del sb
    gc.collect()
    assert not os.path.exists(root)
    if uid is not None:
        assert own_processes(uid) == []


def test_prune_cleans_up_after_a_killed_owner():
    import shutil
    import signal
    import subprocess
    import sys
    import tempfile

    from gym_pdb.sandbox.local_housekeeping import prune

    base = tempfile.mkdtemp(prefix="prune-test-")
    os.chmod(base, 0o711)  # the sandbox uid must reach its workspace
    try:
        _prune_after_kill(base, prune, signal, subprocess, sys)
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _prune_after_kill(base, prune, signal, subprocess, sys):
    script = (
        "import sys, time\n"
        "from gym_pdb.sandbox.local import LocalSandbox\n"
        "sb = LocalSandbox()\n"
        "sb.reset_workspace({'prog.py': b'import time\\ntime.sleep(300)\\n'})\n"
        "sb.spawn(['python', 'prog.py'])\n"
        "print(sb.root, sb.uid, flush=True)\n"
        "time.sleep(300)\n"
    )
    owner = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "TMPDIR": base})  # fmt: skip
    root, uid = owner.stdout.readline().split()
    if uid != "None":  # the program takes the sandbox uid a moment after it starts
        deadline = time.monotonic() + 5
        while not own_processes(int(uid), settle=0) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert own_processes(int(uid), settle=0), "the sandboxed program should be running"
    assert prune(tmpdir=base) == []  # the owner lives: nothing to prune
    owner.send_signal(signal.SIGKILL)
    owner.wait()
    assert os.path.isdir(root)
    assert prune(tmpdir=base) == [root]
    assert not os.path.exists(root)
    if uid != "None":
        assert own_processes(int(uid)) == []


# -- confinement ------------------------------------------------------------------------------------------

HAS_BWRAP = bwrap_problem() is None


def require_bwrap() -> None:
    """Skip where bubblewrap cannot run; in CI (``CI`` set), where scripts/ci-docker.sh installs it, fail."""
    if not HAS_BWRAP:
        require(f"bubblewrap cannot run here: {bwrap_problem()}", "bubblewrap")


ESCAPE = """
import subprocess, sys, time
for session in (False, True):  # one in its group, one that leaves it
    subprocess.Popen(["sleep", sys.argv[1]], start_new_session=session)
print("started", flush=True)
time.sleep(300)
"""


def marked_processes(marker: str, settle: float = 2.0) -> list[int]:
    """Host pids of live ``sleep MARKER`` processes, once those killed had ``settle`` seconds to go."""
    deadline = time.monotonic() + settle
    while True:
        pids = []
        for entry in os.listdir("/proc"):
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    if f.read().split(b"\0")[:2] == [b"sleep", marker.encode()]:
                        with open(f"/proc/{entry}/stat") as f:
                            if f.read().rsplit(")", 1)[1].split()[0] != "Z":
                                pids.append(int(entry))
            except (OSError, ValueError):
                continue
        if not pids or time.monotonic() >= deadline:
            return pids
        time.sleep(0.02)


def unique_marker() -> str:
    return f"{time.time() % 1000:.6f}{os.getpid() % 1000}"  # a valid `sleep` argument, unique on this host


@pytest.fixture(scope="module")
def confined():
    """A bwrap sandbox whose warm interpreter is up, shared by the confinement tests."""
    require_bwrap()
    sb = LocalSandbox(confine="bwrap")
    assert sb.info.extra["confinement"] == "bwrap"
    sb.reset_workspace({"prog.py": b"print('hi')\n"})
    assert sb.wait_warm(60)
    yield sb
    sb.close()


def run_both_ways(sb, code: str) -> list:
    """``code`` run cold (``python -c``, started under bwrap) and warm (a script, forked from the zygote)."""
    sb.write_file("case.py", code.encode())
    cold = sb.run(["python", "-c", code], timeout=20)
    child, out, _ = sb._start(["python", "case.py"], None, interactive=False)
    os.close(out)
    child.wait(20)
    assert isinstance(child, ForkedChild)
    return [cold, sb.run(["python", "case.py"], timeout=20)]


def test_a_program_writes_only_its_workspace_and_tmp(confined):
    name = f"gym-pdb-escape-{os.getpid()}-{time.monotonic_ns()}"
    checkout = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    read_only = [f"/var/tmp/{name}", os.path.join(os.path.expanduser("~"), name), os.path.join(checkout, name),
                 os.path.join(confined.support_dir, name)]  # fmt: skip
    private = [f"/tmp/{name}", f"/dev/shm/{name}"]  # tmpfs of its own: writable, never the host's
    mine = [os.path.join(confined.tmpdir, name), "here.txt"]
    code = f"""
import json
written = {{}}
for path in {read_only + private + mine!r}:
    try:
        open(path, "w").write("x")
        written[path] = True
    except OSError:
        written[path] = False
print(json.dumps(written))
"""
    for result in run_both_ways(confined, code):
        written = json.loads(result.text)
        assert written == {path: path not in read_only for path in read_only + private + mine}, result.text
        for path in read_only + private:
            assert not os.path.exists(path), path
        assert os.path.exists(mine[0]) and confined.read_file("here.txt") == b"x"


def test_a_program_sees_only_its_own_processes_and_no_network(confined):
    code = (
        "import json, os, socket\n"
        "pids = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())\n"
        "try:\n    socket.create_connection(('1.1.1.1', 53), timeout=2)\n    net = 'connected'\n"
        "except OSError as exc:\n    net = str(exc)\n"
        "ifaces = [l.split(':')[0].strip() for l in open('/proc/net/dev').read().splitlines()[2:]]\n"
        "print(json.dumps({'pids': pids, 'me': os.getpid(), 'net': net, 'ifaces': ifaces}))\n"
    )
    cold, warm = (json.loads(r.text) for r in run_both_ways(confined, code))
    assert cold["pids"] == [1, cold["me"]]  # bwrap's init, and the program
    assert len(warm["pids"]) <= 5 and os.getpid() not in warm["pids"]  # init, zygote, prepared eval, program
    for seen in (cold, warm):
        assert "unreachable" in seen["net"].lower() and seen["ifaces"] == ["lo"]


def test_zygote_children_see_the_workspace_across_resets(confined):
    for n in range(2):
        confined.reset_workspace({"prog.py": f"print(open('data.txt').read(), {n})\n".encode(), "data.txt": b"new"})
        child, out, _ = confined._start(["python", "prog.py"], None, interactive=False)
        os.close(out)
        child.wait(20)
        assert isinstance(child, ForkedChild)
        assert confined.run(["python", "prog.py"], timeout=20).text == f"new {n}\n"
        confined.write_file("later.txt", b"x")
        assert confined.run(["python", "-c", "print(open('later.txt').read())"], timeout=20).text == "x\n"
    assert sorted(os.listdir(confined.workdir)) == ["data.txt", "later.txt", "prog.py"]


def test_signals_and_exit_codes_reach_the_program_under_bwrap(confined):
    code = "import faulthandler, signal, sys, time\nfaulthandler.register(signal.SIGUSR1)\nprint('ready', flush=True)\ntime.sleep(60)\n"
    proc = confined.spawn(["python", "-c", code])
    assert proc.read_until(b"ready\n", 10, 4096) == (b"", True)
    proc.interrupt()
    data, _ = proc.read_until(b"<never>", 1, 65536)
    assert b"Current thread" in data and proc.alive()
    proc.kill()
    killed = confined.run(["python", "-c", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)"], timeout=10)
    assert killed.exit_code == -9


@pytest.mark.parametrize("confine", ["bwrap", "basic"])
def test_kill_and_close_leave_no_process_behind(confine):
    if confine == "bwrap":
        require_bwrap()
    sb = LocalSandbox(confine=confine)
    assert sb.info.extra["confinement"] == confine
    sb.reset_workspace({"escape.py": ESCAPE.encode()})
    assert sb.wait_warm(60)
    markers = []
    for argv in (["python", "-c", ESCAPE], ["python", "escape.py"]):  # cold, then warm
        markers.append(unique_marker())
        proc = sb.spawn([*argv, markers[-1]])
        assert proc.read_until(b"started\n", 20, 4096)[1]
        deadline = time.monotonic() + 10
        while len(marked_processes(markers[-1], settle=0)) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert len(marked_processes(markers[-1], settle=0)) == 2
        proc.kill()
        assert not proc.alive()
        left = marked_processes(markers[-1])
        if confine == "bwrap" and argv[1] == "-c":  # its PID namespace is gone, and everything in it
            assert left == []
        else:  # its group is gone; the process that left it goes at close (or a reset, as root)
            assert len(left) <= 1
    sb.close()
    if confine == "bwrap" or IS_ROOT:
        assert [marked_processes(m) for m in markers] == [[], []]


FALLBACK = """
import json, warnings
from gym_pdb.sandbox.base import SandboxError
from gym_pdb.sandbox.local import LocalSandbox
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    sandboxes = [LocalSandbox(warm=False), LocalSandbox(warm=False)]
try:
    LocalSandbox(confine="bwrap", warm=False)
    refused = None
except SandboxError as exc:
    refused = str(exc)
result = sandboxes[0].run(["python", "-c", "print('ran')"], timeout=20)
print(json.dumps({"warnings": [str(w.message) for w in caught if w.category is RuntimeWarning],
                  "confinement": [sb.info.extra["confinement"] for sb in sandboxes], "refused": refused,
                  "output": result.text}))
for sb in sandboxes:
    sb.close()
"""


def test_without_bwrap_the_fallback_warns_once(tmp_path):
    import shutil
    import subprocess
    import sys

    bin_dir = tmp_path / "bin"  # util-linux, and no bwrap
    bin_dir.mkdir()
    for tool in ("unshare", "setpriv", "prlimit", "kill", "setsid"):
        os.symlink(shutil.which(tool), bin_dir / tool)
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = {**os.environ, "PATH": str(bin_dir), "PYTHONPATH": repo}
    out = subprocess.run([sys.executable, "-c", FALLBACK], env=env, capture_output=True, text=True, timeout=120)
    report = json.loads(out.stdout.splitlines()[-1])
    assert report["confinement"] == ["basic", "basic"] and report["output"] == "ran\n"
    (warning,) = report["warnings"]
    assert "bubblewrap (bwrap) is not installed" in warning and "/tmp" in warning
    assert "bwrap" in report["refused"]


AS_NOBODY = """
import json, os
from gym_pdb.sandbox.local import LocalSandbox
code = (
    "import json, os\\n"
    "written = {}\\n"
    "for path in ['/tmp/NAME', '/var/tmp/NAME', 'here']:\\n"
    "    try:\\n        open(path, 'w').write('x')\\n        written[path] = True\\n"
    "    except OSError:\\n        written[path] = False\\n"
    "print(json.dumps({'pids': sorted(int(p) for p in os.listdir('/proc') if p.isdigit()), 'w': written}))\\n"
)
sb = LocalSandbox()
sb.reset_workspace({"case.py": code.encode()})
runs = [json.loads(sb.run(["python", "-c", code], timeout=20).text)]
assert sb.wait_warm(60)
runs.append(json.loads(sb.run(["python", "case.py"], timeout=20).text))
print(json.dumps({"confinement": sb.info.extra["confinement"], "runs": runs}))
sb.close()
"""


@pytest.mark.skipif(not IS_ROOT, reason="needs root to become another user")
def test_without_root_bwrap_confines_in_a_user_namespace():
    import subprocess

    from gym_pdb.sandbox.local_confine import default_python, reachable_by_others

    require_bwrap()
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    if not reachable_by_others(default_python()) or not reachable_by_others(os.path.join(repo, "gym_pdb")):
        pytest.skip("the interpreter or the checkout is out of an unprivileged user's reach")
    name = f"gym-pdb-nobody-{os.getpid()}-{time.monotonic_ns()}"
    probe = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--", default_python(), "-c",
                            "from gym_pdb.sandbox.bwrap import bwrap_problem; print(bwrap_problem())"],
                           env={"PATH": os.environ["PATH"], "PYTHONPATH": repo, "HOME": "/"}, cwd="/",
                           capture_output=True, text=True, timeout=60)  # fmt: skip
    if probe.stdout.strip() != "None":
        pytest.skip(f"no unprivileged user namespaces here: {probe.stdout.strip() or probe.stderr[-300:]}")
    out = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--", default_python(), "-c",
                          AS_NOBODY.replace("NAME", name)],
                         env={"PATH": os.environ["PATH"], "PYTHONPATH": repo, "HOME": "/"}, cwd="/",
                         capture_output=True, text=True, timeout=120)  # fmt: skip
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout.splitlines()[-1])
    assert report["confinement"] == "bwrap"
    cold, warm = report["runs"]
    assert cold["pids"] == [1, 2] and len(warm["pids"]) <= 5
    for run in (cold, warm):
        assert run["w"] == {f"/tmp/{name}": True, f"/var/tmp/{name}": False, "here": True}
    assert not os.path.exists(f"/tmp/{name}") and not os.path.exists(f"/var/tmp/{name}")
