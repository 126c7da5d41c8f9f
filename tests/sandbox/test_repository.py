"""The repository sandbox on a real image: a working copy of the image's repository, its ownership, its restore."""

from __future__ import annotations

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
