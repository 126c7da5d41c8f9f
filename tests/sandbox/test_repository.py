"""The repository sandbox on a real image: a working copy of the image's repository, its ownership, its restore."""

from __future__ import annotations

import signal
import subprocess
import sys

import pytest

from gym_pdb.sandbox.base import SandboxError
from gym_pdb.sandbox.docker.repository import RepositorySandbox
from gym_pdb.tasks.repository import repo_spec


@pytest.fixture(scope="module")
def sandbox(repo_tasks):
    spec = repo_spec(repo_tasks["toolz-0.12.1"])
    assert spec is not None
    sb = RepositorySandbox(image=spec.image, repo_path=spec.path, labels={"gym-pdb.test": "repository"})
    yield sb
    sb.close()


def py(sb: RepositorySandbox, code: str) -> str:
    result = sb.run(["python3", "-c", code], timeout=30)
    return result.text


def test_the_workspace_is_the_images_repository_with_its_tests_locked(sandbox):
    sandbox.checkout(["toolz/tests/test_itertoolz.py", "setup.cfg"])
    tree = sandbox.read_tree()
    assert "toolz/itertoolz.py" in tree and "toolz/tests/test_itertoolz.py" in tree
    assert b"d[item] = 1" in tree["toolz/itertoolz.py"]  # the injected bug
    assert sandbox.pristine["toolz"] == "dir"
    assert "written" in py(sandbox, "open('toolz/itertoolz.py', 'a').write('# x'); print('written')")
    for path in ("toolz/tests/test_itertoolz.py", "setup.cfg"):
        out = py(sandbox, f"open({path!r}, 'a').write('# x')")
        assert "PermissionError" in out, out
        out = py(sandbox, f"import os; os.remove({path!r})")
        assert "PermissionError" in out, out
    out = py(sandbox, "open('/testbed/toolz/itertoolz.py', 'a')")  # the image's copy: the read-only root
    assert "Read-only file system" in out or "PermissionError" in out, out


def test_a_reset_restores_every_change_in_the_same_container(sandbox):
    sandbox.checkout(["setup.cfg"])
    sandbox.read_tree()
    before = sandbox.container_id
    py(sandbox, "import os; os.remove('toolz/utils.py'); open('toolz/conftest.py', 'w').write('x'); "
                "open('toolz/itertoolz.py', 'w').write('broken'); os.makedirs('new/dir')")  # fmt: skip
    entries, changed = sandbox.state()
    assert "toolz/utils.py" not in entries and entries["toolz/conftest.py"] == "file" and entries["new/dir"] == "dir"
    assert {"toolz/conftest.py", "toolz/itertoolz.py"} <= set(changed)
    sandbox.reset_workspace({"toolz/curried/__init__.py": b"# edited\n"}, readonly=["setup.cfg"])
    assert sandbox.last_reset == "changes"  # only what changed was put back
    entries, changed = sandbox.state()
    want = {p: ("file" if k not in ("dir", "link", "other") else k) for p, k in sandbox.pristine.items()}
    assert entries == want
    assert list(changed) == ["toolz/curried/__init__.py"]  # the one file laid over the copy
    assert sandbox.read_file("toolz/curried/__init__.py") == b"# edited\n"
    assert sandbox.read_file("toolz/itertoolz.py") == sandbox.read_tree()["toolz/itertoolz.py"] != b"broken"
    assert "written" in py(sandbox, "open('toolz/itertoolz.py', 'a').write('# x'); print('written')")  # the uid's again
    assert "PermissionError" in py(sandbox, "open('setup.cfg', 'a')")
    assert sandbox.container_id == before
    sandbox.reset_workspace({}, readonly=["setup.cfg", "toolz/tests/test_itertoolz.py"])
    assert sandbox.last_reset == "full"  # other protected files: a fresh copy
    assert "PermissionError" in py(sandbox, "open('toolz/tests/test_itertoolz.py', 'a')")
    assert sandbox.state()[1] == {}


# Counts the sleeping python processes (the marker is split so that this program's own command line lacks it).
SLEEPERS = (
    "import os; cmd = [open(f'/proc/{p}/cmdline', 'rb').read() for p in os.listdir('/proc') if p.isdigit()]; "
    "print(sum(c.startswith(b'python3') and b'sl' b'eep(600)' in c for c in cmd))"
)


def test_processes_end_at_a_reset_and_a_closed_sandbox_refuses_work(repo_tasks):
    spec = repo_spec(repo_tasks["inflection-0.5.1"])
    assert spec is not None
    sb = RepositorySandbox(image=spec.image, repo_path=spec.path)
    try:
        sb.checkout()
        proc = sb.spawn(["python3", "-c", "import time; print('up', end='', flush=True); time.sleep(600)"])
        assert proc.read_until(b"up", timeout=30, limit=1000)[1]
        assert py(sb, SLEEPERS).strip() == "1"
        sb.reset_workspace({})
        assert py(sb, SLEEPERS).strip() == "0"
        proc = sb.spawn(["python3", "-c", "import time; print('up', end='', flush=True); time.sleep(600)"])
        assert proc.read_until(b"up", timeout=30, limit=1000)[1]
        sb.reset_workspace({})
        assert sb.last_reset == "changes" and py(sb, SLEEPERS).strip() == "0"  # a reset of what changed ends them too
    finally:
        sb.close()
    with pytest.raises(SandboxError, match="closed"):
        sb.checkout()


def workspace_mount(client, cid: str) -> dict:
    (mount,) = [m for m in client.api.inspect_container(cid)["Mounts"] if m["Destination"] == "/workspace"]
    return mount


def test_the_working_copy_is_on_disk_and_the_rest_of_the_root_read_only(sandbox):
    sandbox.checkout()
    mount = workspace_mount(sandbox.client, sandbox.container_id)
    assert mount["Type"] == "volume" and mount["Driver"] == "local" and mount["RW"]
    volume = sandbox.client.api.inspect_volume(mount["Name"])
    assert volume["Options"] in (None, {})  # no tmpfs options: a folder under Docker's data root
    assert volume["Labels"]["gym-pdb.sandbox"] == "1" and volume["Labels"]["gym-pdb.owner"]
    filesystems = py(sandbox, "import subprocess; print(subprocess.run(['stat', '-f', '-c', '%T', '/workspace', '/tmp'], "
                              "capture_output=True, text=True).stdout)").split()  # fmt: skip
    assert filesystems[0] != "tmpfs" and filesystems[1] == "tmpfs", filesystems
    # the task uid writes anywhere in the tree, its top folder too (a new volume's folder is root's 0755)
    out = py(sandbox, "open('big.bin', 'wb').write(b'x' * (4 << 20)); print('ok')")
    assert "ok" in out, out
    for path in ("/usr/big.bin", "/testbed/big.bin", "/big.bin"):
        out = py(sandbox, f"open({path!r}, 'wb')")
        assert "Read-only file system" in out or "PermissionError" in out, (path, out)


def test_a_tmpfs_workspace_on_request(repo_tasks):
    spec = repo_spec(repo_tasks["inflection-0.5.1"])
    assert spec is not None
    with RepositorySandbox(image=spec.image, repo_path=spec.path, workspace_volume=None, workspace_bytes=64 << 20) as sb:
        sb.checkout()
        mount = workspace_mount(sb.client, sb.container_id)
        assert "size=67108864" in sb.client.api.inspect_volume(mount["Name"])["Options"]["o"]
        assert "inflection/__init__.py" in sb.read_tree()


def volumes_of(client, cid: str) -> set[str]:
    return {m["Name"] for m in client.api.inspect_container(cid)["Mounts"] if m["Type"] == "volume"}


def test_no_volume_is_left_behind_by_close_a_container_removed_from_outside_or_a_killed_process(repo_tasks):
    from gym_pdb.sandbox.docker import prune

    spec = repo_spec(repo_tasks["inflection-0.5.1"])
    assert spec is not None
    sb = RepositorySandbox(image=spec.image, repo_path=spec.path)
    client = sb.client
    left = set()
    try:
        sb.checkout()
        first = volumes_of(client, sb.container_id)
        assert len(first) == 2  # the workspace (disk) and the support scripts (tmpfs)
        client.api.remove_container(sb.container_id, force=True)  # without its volumes
        sb.reset_workspace({})  # a new container; the old one's volumes removed on noticing
        second = volumes_of(client, sb.container_id)
        left |= first | second
    finally:
        sb.close()
    assert not {v.name for v in client.volumes.list()} & left
    # A process killed (no close, no atexit) with its container: prune removes the container and the volumes.
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED.format(image=spec.image, path=spec.path)], stdout=subprocess.PIPE, text=True
    )
    try:
        cid = child.stdout.readline().strip() if child.stdout else ""
        assert cid, "the child made no sandbox"
        volumes = volumes_of(client, cid)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert client.containers.get(cid).name in prune()
    assert not {v.name for v in client.volumes.list()} & volumes


KILLED = """
import time
from gym_pdb.sandbox.docker.repository import RepositorySandbox
sb = RepositorySandbox(image={image!r}, repo_path={path!r}, labels={{"gym-pdb.test": "repository"}})
sb.checkout()
print(sb.container_id, flush=True)
time.sleep(600)
"""
