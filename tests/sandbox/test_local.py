"""The local sandbox, with real processes."""

from __future__ import annotations

import gc
import os
import time

import pytest

from gym_pdb.sandbox.base import Limits, SandboxError
from gym_pdb.sandbox.local import LocalSandbox
from tests.conftest import own_processes

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

    from gym_pdb.sandbox.local import prune

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
