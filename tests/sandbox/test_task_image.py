"""``gym-pdb build-image --dockerfile``: a task image from a folder, on the local daemon, built once per content."""

from __future__ import annotations

import pytest

from gym_pdb.sandbox.docker import default_image
from gym_pdb.sandbox.docker.task_image import RECIPE_LABEL, context_hash, image_recipe
from gym_pdb.sandbox.docker_cli import main
from tests.conftest import require_backend

TAG = "gym-pdb-test-task-image:latest"


@pytest.fixture
def client():
    require_backend("docker")
    import docker

    c = docker.from_env(timeout=120)
    yield c
    try:
        c.images.remove(TAG, force=True)
    except docker.errors.ImageNotFound:
        pass
    c.close()


def test_a_dockerfile_folder_builds_once_per_content(client, tmp_path, capsys):
    (tmp_path / "Dockerfile").write_text(f"FROM {default_image()}\nCOPY repo /testbed\n")
    (tmp_path / "repo").mkdir()
    (tmp_path / "repo" / "mod.py").write_text("X = 1\n")
    assert main(["build-image", "--dockerfile", str(tmp_path), "--tag", TAG, "--if-missing"]) == 0
    assert capsys.readouterr().out.strip() == f"{TAG}: built"
    assert image_recipe(client, TAG) == context_hash(tmp_path)
    assert client.images.get(TAG).labels[RECIPE_LABEL] == context_hash(tmp_path)
    assert main(["build-image", "--dockerfile", str(tmp_path), "--tag", TAG, "--if-missing"]) == 0
    assert capsys.readouterr().out.strip() == f"{TAG}: up to date"
    (tmp_path / "repo" / "mod.py").write_text("X = 2\n")
    assert main(["build-image", "--dockerfile", str(tmp_path), "--tag", TAG, "--if-missing"]) == 0
    assert capsys.readouterr().out.strip() == f"{TAG}: built"


def test_a_broken_dockerfile_or_no_tag_is_an_error(client, tmp_path, capsys):
    assert main(["build-image", "--dockerfile", str(tmp_path), "--tag", TAG]) == 1
    assert "no Dockerfile" in capsys.readouterr().err
    (tmp_path / "Dockerfile").write_text(f"FROM {default_image()}\nCOPY missing /x\n")
    assert main(["build-image", "--dockerfile", str(tmp_path), "--tag", TAG]) == 1
    assert "failed" in capsys.readouterr().err
    assert main(["build-image", "--dockerfile", str(tmp_path)]) == 2
