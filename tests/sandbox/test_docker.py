"""The Docker sandbox against a real dockerd and the real sandbox image (no mocks).

Without dockerd or the image these tests skip on a workstation and fail in CI
(``CI`` set), where .ci/run (scripts/ci-docker.sh) provides both.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import pytest

from gym_pdb.sandbox import make_sandbox
from gym_pdb.sandbox.base import Limits, SandboxError
from tests.conftest import require, require_backend

REPO = Path(__file__).resolve().parents[2]
MARKER = b"<<gym-pdb-prompt>>"


@pytest.fixture(scope="module")
def client():
    require_backend("docker")
    import docker

    c = docker.from_env()
    yield c
    c.close()


@pytest.fixture(scope="module")
def shared(client):
    """One sandbox for the tests that leave it usable (a reset per test)."""
    from gym_pdb.sandbox.docker import DockerSandbox

    sb = DockerSandbox(limits=Limits(memory_bytes=512 * 1024**2, processes=64))
    yield sb
    sb.close()


@pytest.fixture
def sb(shared):
    shared.reset_workspace(
        {"prog.py": b"print('hi')\n", "tests/test_prog.py": b"def test_x():\n    pass\n"},
        readonly=["tests/test_prog.py"],
    )
    return shared


def exists(client, container_id: str) -> bool:
    import docker

    try:
        client.containers.get(container_id)
        return True
    except docker.errors.NotFound:
        return False


def py(sandbox, code: str, timeout: float = 20, **kw):
    return sandbox.run(["python3", "-c", textwrap.dedent(code)], timeout=timeout, **kw)


# -- basics -------------------------------------------------------------------


def test_make_sandbox_builds_a_docker_sandbox(client):
    from gym_pdb.sandbox.docker import DockerSandbox

    sandbox = make_sandbox("docker", limits=Limits(processes=32))
    try:
        assert isinstance(sandbox, DockerSandbox)
        assert sandbox.container_id is None  # created lazily, at first use
        sandbox.reset_workspace({"a.py": b"print(6 * 7)\n"})
        assert sandbox.run([sandbox.info.python, "a.py"], timeout=20).text == "42\n"
    finally:
        sandbox.close()


def test_run_merges_output_and_reports_exit_codes(sb):
    result = py(sb, "import sys; print('out'); print('err', file=sys.stderr); sys.exit(3)")
    assert result.exit_code == 3 and result.text == "out\nerr\n" and not result.timed_out
    assert sb.run(["python3", "prog.py"], timeout=20).text == "hi\n"
    assert sb.run(["sh", "-c", "kill -9 $$"], timeout=20).exit_code == -9


def test_runs_unprivileged_in_the_workspace_with_a_scrubbed_environment(sb, monkeypatch):
    monkeypatch.setenv("GYM_PDB_SECRET_TOKEN", "do-not-leak")
    result = py(sb, "import os; print(os.getuid(), os.getcwd()); print(sorted(os.environ))")
    first, env = result.text.splitlines()
    uid, cwd = first.split()
    assert int(uid) >= 1000 and cwd == sb.info.workdir
    assert "GYM_PDB_SECRET_TOKEN" not in env and "'PYTHONUNBUFFERED'" in env
    caps = py(sb, "print([l for l in open('/proc/self/status') if l.startswith(('CapEff', 'CapPrm', 'NoNewPrivs'))])")
    assert "CapEff:\\t0000000000000000" in caps.text and "CapPrm:\\t0000000000000000" in caps.text
    assert "NoNewPrivs:\\t1" in caps.text


def test_the_image_has_the_packages(sb):
    mods = "pytest numpy pandas scipy sklearn matplotlib seaborn networkx flask z3 autograd".split()
    if os.environ.get("GYM_PDB_TIER", "full") == "full":  # the default image tier
        mods += ["torch", "cv2"]
    result = py(sb, f"import importlib\nfor m in {mods!r}: importlib.import_module(m)\nprint('ok')", timeout=240)  # torch's import alone took a minute on a loaded CI machine
    assert result.text.strip().endswith("ok"), result.text


def test_files_round_trip_and_reset_reuses_the_container(sb):
    cid = sb.container_id
    sb.write_file("pkg/mod.py", b"X = 1\n")
    assert sb.read_file("pkg/mod.py") == b"X = 1\n"
    assert sb.run(["python3", "-c", "import pkg.mod; print(pkg.mod.X)"], timeout=20).text == "1\n"
    with pytest.raises(FileNotFoundError):
        sb.read_file("nope.py")
    with pytest.raises(IsADirectoryError):
        sb.read_file("pkg")
    with pytest.raises(ValueError):
        sb.read_file("../etc/passwd")
    sb.run(["sh", "-c", "echo left > /tmp/junk; echo left > junk.txt; ln -s /etc/passwd link"], timeout=20)
    with pytest.raises(OSError):
        sb.read_file("link")  # links are not followed
    sb.run(["ln", "-s", "/etc", "etc"], timeout=20)
    with pytest.raises(PermissionError):
        sb.read_file("etc/shadow")  # read with the program's rights, not root's
    sb.reset_workspace({"new.py": b"pass\n"})
    assert sb.container_id == cid
    listing = sb.run(["sh", "-c", "ls -A . /tmp"], timeout=20).text
    assert "new.py" in listing and "junk" not in listing and "prog.py" not in listing


def test_small_and_large_resets_lay_the_same_files(sb):
    """A small reset goes through the control shell, a large one is an archive upload: the same files either way."""
    listing = "cd /workspace && find . -mindepth 1 | sort | xargs stat -c '%n %a %u %F'"
    seen = []
    for big in (b"x" * 100, os.urandom(100_000)):  # the second is past the control shell's size
        sb.run(["sh", "-c", "mkdir stale && echo left > stale/junk"], timeout=20)
        sb.reset_workspace({"prog.py": b"print('hi')\n", "data/big.bin": big, "tests/t.py": b"pass\n"}, readonly=["tests/t.py"])
        assert sb.read_file("data/big.bin") == big
        seen.append(sb._container().control(listing).decode())
    uid = sb._container().uid
    assert seen[0] == seen[1] == (
        f"./data 1777 0 directory\n./data/big.bin 644 {uid} regular file\n./prog.py 644 {uid} regular file\n"
        "./tests 1777 0 directory\n./tests/t.py 444 0 regular file\n"
    )


def test_readonly_files_cannot_be_written_removed_or_replaced(sb):
    code = """
    import os
    for attempt in (lambda: open('tests/test_prog.py', 'w'), lambda: os.remove('tests/test_prog.py'),
                    lambda: os.rename('tests/test_prog.py', 'x.py'), lambda: os.chmod('tests/test_prog.py', 0o666),
                    lambda: os.rename('tests', 'moved')):
        try:
            attempt()
            print('WROTE')
        except OSError as exc:
            print(type(exc).__name__)
    open('prog.py', 'a').write('# mine\\n')
    print(open('tests/test_prog.py').read().strip())
    """
    result = py(sb, code)
    assert "WROTE" not in result.text and result.text.count("PermissionError") == 5, result.text
    assert "def test_x" in result.text
    assert sb.read_file("prog.py").endswith(b"# mine\n")


def test_write_file_replaces_a_planted_link_and_keeps_ownership(sb):
    from gym_pdb.sandbox.docker import CONTROL_WRITE_MAX

    sb.run(["sh", "-c", "rm prog.py; ln -s /etc/hostname prog.py"], timeout=20)
    for content in (b"print('small')\n", b"#" * (CONTROL_WRITE_MAX + 1) + b"\n"):  # control shell, then upload
        sb.write_file("prog.py", content)
        assert sb.read_file("prog.py") == content
        owner = sb.run(["sh", "-c", "stat -c '%u %a' prog.py; test -L prog.py || echo plain"], timeout=20).text
        assert owner == f"{sb.info.extra['uid']} 644\nplain\n"
        assert sb._container().control("cat /etc/hostname") == b"sandbox\n"
    sb.write_file("tests/test_prog.py", b"def test_y():\n    pass\n")  # a read-only task file: the host may
    assert sb.read_file("tests/test_prog.py") == b"def test_y():\n    pass\n"


# -- isolation ----------------------------------------------------------------


def test_no_network_interface_but_lo(sb):
    result = py(sb, "print(open('/proc/net/dev').read())")
    interfaces = {line.split(":")[0].strip() for line in result.text.splitlines()[2:] if ":" in line}
    assert interfaces == {"lo"}
    connect = py(sb, "import socket; socket.create_connection(('1.1.1.1', 53), timeout=2)")
    assert connect.exit_code != 0 and "unreachable" in connect.text.lower()


def test_cannot_write_outside_the_workspace_or_read_the_host(sb, tmp_path):
    secret = tmp_path / f"host-secret-{uuid.uuid4().hex}"
    secret.write_text("host only")
    code = f"""
    import os
    for path in ('/etc/evil', '/usr/lib/evil', '/evil', '{sb.info.support_dir}/pdb_driver.py', '{sb.info.support_dir}/new'):
        try:
            open(path, 'w').write('x')
            print('WROTE', path)
        except OSError as exc:
            print('refused', path, exc.strerror)
    print('host file visible:', os.path.exists({str(secret)!r}))
    print('pid 1:', open('/proc/1/cmdline').read().replace('\\0', ' '))
    """
    result = py(sb, code)
    assert "WROTE" not in result.text and result.text.count("refused") == 5, result.text
    assert "host file visible: False" in result.text
    assert "pid 1: tini" in result.text or "pid 1: /usr/bin/tini" in result.text
    assert py(sb, "open('/tmp/scratch', 'w').write('ok'); print(open('/tmp/scratch').read())").text == "ok\n"


def test_timeout_kills_the_whole_process_group(sb):
    code = "import subprocess, time; subprocess.Popen(['sleep', '300']); print('started', flush=True); time.sleep(300)"
    start = time.monotonic()
    result = py(sb, code, timeout=1.5)
    assert result.timed_out and result.exit_code is None and "started" in result.text
    assert time.monotonic() - start < 10
    left = sb.run(["sh", "-c", "for p in /proc/[0-9]*/cmdline; do tr '\\0' ' ' <$p; echo; done"], timeout=20)
    assert "sleep 300" not in left.text


def test_huge_output_is_truncated_keeping_head_and_tail(sb):
    code = "import sys\nsys.stdout.write('HEAD\\n' + 'x' * 30_000_000 + '\\nTAIL\\n')"
    result = py(sb, code, timeout=60, output_limit=64 * 1024)
    assert result.truncated and result.exit_code == 0
    assert len(result.output) < 70 * 1024
    assert result.text.startswith("HEAD") and result.text.endswith("TAIL\n")


def test_fork_bomb_is_contained_and_the_sandbox_recovers(sb):
    bomb = "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n"
    start = time.monotonic()
    result = py(sb, bomb, timeout=3)
    assert result.timed_out and time.monotonic() - start < 20
    assert sb.run(["echo", "alive"], timeout=20).text == "alive\n"
    sb.reset_workspace({"a.py": b"print('fine')\n"})
    assert sb.run(["python3", "a.py"], timeout=20).text == "fine\n"


def test_memory_bomb_is_contained_and_the_sandbox_recovers(sb):
    bomb = "chunks = []\nwhile True:\n    chunks.append(b'x' * 50_000_000)\n"
    result = py(sb, bomb, timeout=60)
    assert not result.timed_out and result.exit_code != 0  # OOM-killed (-9) or MemoryError
    assert sb.run(["echo", "alive"], timeout=20).text == "alive\n"


def test_disk_filler_is_contained_and_the_space_comes_back(client):
    from gym_pdb.sandbox.docker import DockerSandbox

    with DockerSandbox(workspace_bytes=32 * 1024**2, tmp_bytes=16 * 1024**2) as sandbox:
        sandbox.reset_workspace({})
        filler = """
        import errno, sys
        target = sys.argv[1]
        written = 0
        try:
            for i in range(1000):
                with open(f'{target}/fill{i}', 'wb') as f:
                    for _ in range(8):
                        f.write(b'\\0' * 1024 * 1024)
                        f.flush()
                        written += 1
        except OSError as exc:
            print('stopped', errno.errorcode[exc.errno], written)
        """
        ws = sandbox.run(["python3", "-c", textwrap.dedent(filler), "."], timeout=60)
        assert "stopped ENOSPC" in ws.text and int(ws.text.split()[-1]) <= 32, ws.text
        tmp = sandbox.run(["python3", "-c", textwrap.dedent(filler), "/tmp"], timeout=60)
        assert "stopped ENOSPC" in tmp.text and int(tmp.text.split()[-1]) <= 16, tmp.text
        root = sandbox.run(["python3", "-c", textwrap.dedent(filler), "/var/tmp"], timeout=60)
        assert "stopped EROFS" in root.text or "stopped EACCES" in root.text, root.text
        sandbox.reset_workspace({})
        again = sandbox.run(["python3", "-c", textwrap.dedent(filler).replace("range(1000)", "range(2)"), "."], timeout=60)
        assert "stopped" not in again.text and again.exit_code == 0


# -- interactive processes ------------------------------------------------------


ECHO_SERVER = r"""
import faulthandler, signal, sys
faulthandler.register(signal.SIGUSR1, all_threads=True)
MARK = sys.argv[1]
sys.stdout.write('ready' + MARK); sys.stdout.flush()
for line in sys.stdin:
    line = line.strip()
    if line == 'spin':
        while True:
            pass
    if line == 'big':
        sys.stdout.write('y' * 1_000_000)
    elif line == 'quit':
        sys.exit(5)
    else:
        sys.stdout.write('echo:' + line + '\n')
    sys.stdout.write(MARK); sys.stdout.flush()
"""


def test_spawn_reads_to_the_marker(sb):
    sb.write_file("server.py", ECHO_SERVER.encode())
    proc = sb.spawn(["python3", "server.py", MARKER.decode()])
    try:
        assert proc.read_until(MARKER, timeout=20, limit=4096) == (b"ready", True)
        proc.write(b"hello\n")
        assert proc.read_until(MARKER, timeout=10, limit=4096) == (b"echo:hello\n", True)
        proc.write(b"big\n")
        data, found = proc.read_until(MARKER, timeout=10, limit=4096)
        assert found and len(data) < 5000 and b"cut" in data
        assert proc.alive() and proc.exit_code is None
        proc.write(b"spin\n")
        data, found = proc.read_until(MARKER, timeout=0.5, limit=4096)
        assert not found and proc.alive()
        proc.interrupt()  # faulthandler prints the stack; the process goes on
        deadline = time.monotonic() + 10
        seen = b""
        while b"server.py" not in seen and time.monotonic() < deadline:
            chunk, _ = proc.read_until(MARKER, timeout=0.5, limit=65536)
            seen += chunk
        assert b"server.py" in seen and proc.alive()
    finally:
        proc.kill()
    assert not proc.alive() and proc.exit_code is not None
    proc.kill()  # idempotent
    with pytest.raises(SandboxError):
        proc.write(b"more\n")


def test_spawned_process_exit_is_seen(sb):
    sb.write_file("server.py", ECHO_SERVER.encode())
    proc = sb.spawn(["python3", "server.py", MARKER.decode()])
    assert proc.read_until(MARKER, timeout=20, limit=4096)[1]
    proc.write(b"quit\n")
    data, found = proc.read_until(MARKER, timeout=10, limit=4096)
    assert not found and not proc.alive() and proc.exit_code == 5
    proc.kill()


def test_pdb_round_trip_over_the_exec_socket(sb):
    proc = sb.spawn(["python3", "-m", "pdb", "prog.py"])
    try:
        first, found = proc.read_until(b"(Pdb) ", timeout=20, limit=65536)
        assert found and b"prog.py(1)" in first
        times = []
        for _ in range(50):
            start = time.perf_counter()
            proc.write(b"p 1+1\n")
            out, found = proc.read_until(b"(Pdb) ", timeout=10, limit=65536)
            times.append(time.perf_counter() - start)
            assert found and out == b"2\n"
        assert sorted(times)[25] < 0.05  # p50 is ~0.1 ms; a new exec per command would be ~100 ms
    finally:
        proc.kill()


def test_pdb_driver_runs_from_the_support_dir(sb):
    listing = sb.run(["ls", sb.info.support_dir], timeout=20).text.split()
    from gym_pdb.sandbox.support import support_files

    assert set(support_files()) <= set(listing)
    for name, content in sb._support.items():  # what it uploaded (support_files() as the sandbox was made)
        got = sb.run(["cat", f"{sb.info.support_dir}/{name}"], timeout=20).output
        assert got == content


# -- failures and leaks -----------------------------------------------------------


def test_container_killed_from_outside_is_detected_and_replaced_at_reset(client):
    from gym_pdb.sandbox.docker import DockerSandbox

    sandbox = DockerSandbox()
    try:
        sandbox.reset_workspace({"prog.py": b"print('hi')\n"})
        old = sandbox.container_id
        proc = sandbox.spawn(["python3", "-m", "pdb", "prog.py"])
        assert proc.read_until(b"(Pdb) ", timeout=20, limit=65536)[1]
        client.api.kill(old)
        with pytest.raises(SandboxError, match="reset"):
            proc.write(b"p 1\n")
            proc.read_until(b"(Pdb) ", timeout=20, limit=65536)
        with pytest.raises(SandboxError, match="stopped|removed"):
            sandbox.run(["echo", "x"], timeout=10)
        with pytest.raises(SandboxError):
            sandbox.read_file("prog.py")
        sandbox.reset_workspace({"prog.py": b"print('back')\n"})
        assert sandbox.container_id != old and not exists(client, old)
        assert sandbox.run(["python3", "prog.py"], timeout=20).text == "back\n"
        # removed from outside between episodes: reset makes a new one too, and nothing leaks
        gone = sandbox.container_id
        volumes = [m["Name"] for m in client.api.inspect_container(gone)["Mounts"] if m["Type"] == "volume"]
        client.api.remove_container(gone, force=True)
        sandbox.reset_workspace({"prog.py": b"print('again')\n"})
        assert not {v.name for v in client.volumes.list()} & set(volumes)
        assert sandbox.run(["python3", "prog.py"], timeout=20).text == "again\n"
    finally:
        sandbox.close()


def test_close_removes_the_container_and_its_volumes(client):
    from gym_pdb.sandbox.docker import DockerSandbox

    sandbox = DockerSandbox()
    sandbox.reset_workspace({"a.py": b""})
    cid = sandbox.container_id
    volumes = [m["Name"] for m in client.api.inspect_container(cid)["Mounts"] if m["Type"] == "volume"]
    assert len(volumes) == 2
    sandbox.close()
    sandbox.close()  # idempotent
    assert not exists(client, cid)
    names = {v.name for v in client.volumes.list()}
    assert not names & set(volumes)
    with pytest.raises(SandboxError):
        sandbox.run(["true"], timeout=5)


CHILD = """
import sys, time
from gym_pdb.sandbox.docker import DockerSandbox
sb = DockerSandbox()
sb.reset_workspace({"a.py": b""})
print(sb.container_id, flush=True)
if sys.argv[1] == "hang":
    time.sleep(600)
"""


def _child(mode: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, mode], stdout=subprocess.PIPE, text=True, cwd=REPO, env={**os.environ}
    )


def test_interpreter_exit_removes_the_container(client):
    child = _child("exit")
    cid = child.stdout.readline().strip()
    assert child.wait(timeout=60) == 0 and cid
    assert not exists(client, cid)


def test_prune_removes_the_containers_of_a_killed_process(client):
    from gym_pdb.sandbox.docker import prune

    child = _child("hang")
    try:
        cid = child.stdout.readline().strip()
        assert cid and exists(client, cid)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert exists(client, cid)  # SIGKILL: no atexit, the container is left
    name = client.containers.get(cid).name
    assert name in prune()
    assert not exists(client, cid)


def test_prune_keeps_containers_of_live_processes(shared, client):
    from gym_pdb.sandbox.docker import prune

    shared.reset_workspace({})
    prune()
    assert exists(client, shared.container_id)


# -- compose pool -------------------------------------------------------------------


def _compose() -> list[str] | None:
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    return None


@pytest.fixture
def pool(client):
    compose = _compose()
    if compose is None:
        require("neither docker-compose nor docker compose is installed", "docker-compose")
    project = f"gympdbtest{os.getpid()}"
    pool_name = uuid.uuid4().hex[:12]
    env = {**os.environ, "GYM_PDB_POOL": pool_name}
    base = [*compose, "-f", str(REPO / "docker" / "compose.yaml"), "-p", project]
    up = subprocess.run([*base, "up", "-d", "--scale", "sandbox=2", "sandbox"], env=env, capture_output=True, text=True)
    assert up.returncode == 0, up.stderr
    try:
        yield f"gym-pdb.pool={pool_name}"
    finally:
        subprocess.run([*base, "down", "-t", "0"], env=env, capture_output=True)


def test_compose_pool_scales_and_sandboxes_attach(pool, client):
    from gym_pdb.sandbox.docker import DockerSandbox

    a, b = DockerSandbox(attach=pool), DockerSandbox(attach=pool)
    try:
        a.reset_workspace({"x.py": b"print(6 * 7)\n", "t.py": b"x"}, readonly=["t.py"])
        b.reset_workspace({"x.py": b"print(1)\n"})
        assert a.container_id != b.container_id
        assert a.run(["python3", "x.py"], timeout=20).text == "42\n"
        assert b.run(["python3", "x.py"], timeout=20).text == "1\n"
        assert "PermissionError" in a.run(["python3", "-c", "open('t.py', 'w')"], timeout=20).text
        a.write_file("d/y.txt", b"yy")
        assert a.read_file("d/y.txt") == b"yy"
        net = a.run(["python3", "-c", "print(open('/proc/net/dev').read())"], timeout=20).text
        assert {line.split(":")[0].strip() for line in net.splitlines()[2:] if ":" in line} == {"lo"}
        with pytest.raises(SandboxError, match="no idle container"):
            DockerSandbox(attach=pool).reset_workspace({})
        claimed = a.container_id
    finally:
        a.close()
        b.close()
    # released, not removed: the next sandbox gets a clean container
    assert exists(client, claimed)
    with DockerSandbox(attach=pool) as c:
        c.reset_workspace({})
        assert c.run(["ls", "-A"], timeout=20).text == ""


def test_claims_of_killed_processes_are_taken_over_or_pruned(pool, client):
    from gym_pdb.sandbox.docker import DockerSandbox, prune

    code = CHILD.replace("DockerSandbox()", f"DockerSandbox(attach={pool!r})")
    children = [
        subprocess.Popen([sys.executable, "-c", code, "hang"], stdout=subprocess.PIPE, text=True, cwd=REPO)
        for _ in range(2)
    ]
    try:
        ids = [child.stdout.readline().strip() for child in children]
        assert all(ids) and len(set(ids)) == 2
    finally:
        for child in children:
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=30)
    # both containers are claimed by dead processes: a new sandbox takes one over
    with DockerSandbox(attach=pool) as sandbox:
        sandbox.reset_workspace({})
        assert sandbox.container_id in ids
        assert sandbox.run(["ls", "-A"], timeout=20).text == ""
        other = next(i for i in ids if i != sandbox.container_id)
        # prune frees the other one (and keeps the live claim)
        assert prune() == [client.containers.get(other).name]
        with DockerSandbox(attach=pool) as second:
            second.reset_workspace({})
            assert second.container_id == other


# -- the warm interpreter -------------------------------------------------------


def warm_ready(sb) -> None:
    assert sb.wait_warm(60), "the zygote did not come up"


def test_python_scripts_are_forked_by_the_warm_interpreter_and_confined(sb):
    warm_ready(sb)
    sb.write_file(
        "report.py",
        b"import os, sys\nprint(os.getuid(), os.getcwd(), sys.argv, sys.path[0], os.environ.get('EXTRA'), os.getsid(0) == os.getpid())\n"
        b"print([l.strip() for l in open('/proc/self/status') if l.startswith(('CapEff', 'CapPrm', 'NoNewPrivs'))])\n"
        b"print(open('/proc/%d/cmdline' % os.getppid()).read().replace('\\0', ' '))\n"
        b"raise SystemExit(3)\n",
    )
    c = sb._container()
    assert c.warm.request(["python3", "report.py"], sb._env(None)) is not None
    result = sb.run(["python3", "report.py", "a"], timeout=20, env={"EXTRA": "x"})
    first, caps, parent = result.text.splitlines()
    assert first == f"{c.uid} /workspace ['report.py', 'a'] /workspace x True"
    assert "CapEff:\\t0000000000000000" in caps and "CapPrm:\\t0000000000000000" in caps and "NoNewPrivs:\\t1" in caps
    assert "zygote.py" in parent
    assert result.exit_code == 3
    sb.write_file("die.py", b"import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n")
    assert sb.run(["python3", "die.py"], timeout=20).exit_code == -9


def test_warm_runs_come_back_on_the_zygote_stream_and_cannot_forge_its_frames(sb):
    """A run to completion is a request on the zygote's own exec: no connector exec, and its output is data only."""
    warm_ready(sb)
    sb.write_file(
        "forge.py",
        b"import os, subprocess, sys\n"
        b"connectors = sum(b'sleep\\x002147483647' in open(f'/proc/{p}/cmdline', 'rb').read()\n"
        b"                 for p in os.listdir('/proc') if p.isdigit() and os.path.exists(f'/proc/{p}/cmdline'))\n"
        b"print('connectors', connectors)\n"
        b"sys.stdout.write('exit 1 0\\nout 1 3\\nready 0 1\\npid 9 9\\n')\n"
        b"sys.stdout.flush()\n"
        b"sys.stderr.write('to stderr\\n')\n"
        b"subprocess.Popen(['setsid', 'sleep', '60'])  # leaves the group with our stdout open\n"
        b"raise SystemExit(7)\n",
    )
    start = time.monotonic()
    result = sb.run(["python3", "forge.py"], timeout=20)
    assert time.monotonic() - start < 5  # not held by the process that left the group
    assert result.exit_code == 7 and not result.timed_out
    assert result.text == "connectors 0\nexit 1 0\nout 1 3\nready 0 1\npid 9 9\nto stderr\n"
    sb.write_file("huge.py", b"import sys\nsys.stdout.write('HEAD\\n' + 'x' * 30_000_000 + '\\nTAIL\\n')\n")
    result = sb.run(["python3", "huge.py"], timeout=60, output_limit=64 * 1024)
    assert result.truncated and result.exit_code == 0 and len(result.output) < 70 * 1024
    assert result.text.startswith("HEAD") and result.text.endswith("TAIL\n")
    assert sb.run(["python3", "prog.py"], timeout=20).text == "hi\n"


def test_warm_runs_time_out_and_leave_no_process_behind(sb):
    warm_ready(sb)
    sb.write_file("spin.py", b"import subprocess\nsubprocess.Popen(['sleep', '300'])\nprint('started', flush=True)\nwhile True: pass\n")
    start = time.monotonic()
    result = sb.run(["python3", "spin.py"], timeout=1.5)
    assert result.timed_out and "started" in result.text and time.monotonic() - start < 10
    proc = sb.spawn(["python3", "spin.py"])
    assert proc.read_until(b"started\n", 10, 1000)[1]
    proc.kill()
    time.sleep(0.5)
    left = sb._container().control("ps -eo args").decode()
    assert "sleep 300" not in left and "sleep 2147483647" not in left  # the connectors end with their programs


def test_task_code_cannot_reach_the_zygote_which_outlives_resets(sb):
    from gym_pdb.sandbox.docker import WARM_FIFO

    warm_ready(sb)
    zygote = int(sb._container().control("pgrep -f zygote.py").split()[0])
    sb.write_file(
        "evil.py",
        f"import os\nfor act in (lambda: open({WARM_FIFO!r}, 'w'), lambda: os.kill({zygote}, 9)):\n"
        "    try:\n        act()\n        print('reached')\n    except PermissionError:\n        print('refused')\n".encode(),
    )
    assert sb.run(["python3", "evil.py"], timeout=20).text == "refused\nrefused\n"
    sb.reset_workspace({"a.py": b"print('fine')\n"})
    assert int(sb._container().control("pgrep -f zygote.py").split()[0]) == zygote
    assert sb.run(["python3", "a.py"], timeout=20).text == "fine\n"


def test_a_dead_zygote_is_replaced_and_runs_start_cold_meanwhile(sb):
    warm_ready(sb)
    sb._container().control("pkill -9 -f zygote.py")
    time.sleep(0.2)
    assert sb.run(["python3", "prog.py"], timeout=20).text == "hi\n"
    warm_ready(sb)
    assert sb.run(["python3", "prog.py"], timeout=20).text == "hi\n"
