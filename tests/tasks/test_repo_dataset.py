"""Repository datasets: SWE-bench and R2E-Gym rows, the file formats, ``PDB-Repo-v0``, and the Docker-only rule."""

from __future__ import annotations

import json

import gymnasium as gym
import pytest

import gym_pdb  # noqa: F401 - registers the ids
from gym_pdb.tasks.repo_dataset import load_repo_dataset, read_rows, row_task, write_rows
from gym_pdb.tasks.repo_episode import RepositoryBackendError
from gym_pdb.tasks.repo_examples import example_tasks
from gym_pdb.tasks.repository import repo_spec

SWEBENCH_ROW = {
    "instance_id": "astropy__astropy-12907",
    "repo": "astropy/astropy",
    "base_commit": "d16bfe05a744909de4b27f5875fe0d4ed41ce607",
    "problem_statement": "Modeling's `separability_matrix` does not compute separability correctly for nested CompoundModels",
    "patch": "--- a/astropy/modeling/separable.py\n+++ b/astropy/modeling/separable.py\n@@ -1 +1 @@\n-a\n+b\n",
    "test_patch": "--- a/astropy/modeling/tests/test_separable.py\n+++ b/astropy/modeling/tests/test_separable.py\n"
    "@@ -1 +1 @@\n-x\n+y\n",
    "FAIL_TO_PASS": json.dumps(["astropy/modeling/tests/test_separable.py::test_separable[compound_model6-result6]"]),
    "PASS_TO_PASS": json.dumps(["astropy/modeling/tests/test_separable.py::test_coord_matrix"]),
    "version": "4.3",
}
R2E_ROW = {
    "repo_name": "pillow",
    "docker_image": "namanjain12/pillow_final:0a1b2c",
    "commit_hash": "0a1b2c",
    "problem_statement": "Image.crop drops the alpha band",
    "expected_output_json": json.dumps({"r2e_tests/test_1.py::test_crop - ok": "PASSED", "r2e_tests/test_1.py::test_x": "FAILED"}),
}


def test_a_swebench_row_names_its_image_tests_patches_and_protected_files():
    task = row_task(SWEBENCH_ROW, "swe")
    spec = repo_spec(task)
    assert spec is not None and task.id == "astropy__astropy-12907"
    assert spec.image == "swebench/sweb.eval.x86_64.astropy_1776_astropy-12907:latest" and spec.path == "/testbed"
    assert spec.test_ids == [*json.loads(SWEBENCH_ROW["FAIL_TO_PASS"]), *json.loads(SWEBENCH_ROW["PASS_TO_PASS"])]
    assert task.expected == {"ids": spec.test_ids, "collected": spec.test_ids}
    assert spec.gold_patch == SWEBENCH_ROW["patch"] and spec.test_patch == SWEBENCH_ROW["test_patch"]
    assert not task.is_editable("astropy/modeling/tests/test_separable.py")  # the tests' file and the patch's
    assert not task.is_editable("astropy/conftest.py") and not task.is_editable("setup.cfg")
    assert task.is_editable("astropy/modeling/separable.py")
    assert not task.is_visible(".git/HEAD") and not task.is_visible("astropy/__pycache__/x.pyc")
    assert SWEBENCH_ROW["problem_statement"] in task.prompt


def test_an_r2e_gym_row_expects_what_its_gold_passes_with_the_hidden_tests():
    spec = repo_spec(row_task(R2E_ROW, "r2e"))
    assert spec is not None and spec.image == R2E_ROW["docker_image"]
    assert spec.pass_to_pass == ["r2e_tests/test_1.py::test_crop"] and spec.fail_to_pass == []
    assert spec.hidden_tests == "/r2e_tests" and spec.eval_dest == "r2e_tests"


def test_a_row_without_tests_or_image_is_refused():
    with pytest.raises(ValueError, match="FAIL_TO_PASS"):
        row_task({"id": "x", "image": "i"}, "s")
    with pytest.raises(ValueError, match="no image"):
        row_task({"id": "x", "fail_to_pass": ["t.py::t"]}, "s")


@pytest.mark.parametrize("suffix", [".jsonl", ".json", ".parquet"])
def test_every_file_format_reads_the_same_rows(tmp_path, suffix):
    path = tmp_path / f"swe{suffix}"
    if suffix == ".jsonl":
        path.write_text(json.dumps(SWEBENCH_ROW) + "\n\n")
    elif suffix == ".json":
        path.write_text(json.dumps({"instances": [SWEBENCH_ROW]}))
    else:
        pa = pytest.importorskip("pyarrow")
        import pyarrow.parquet as pq

        pq.write_table(pa.Table.from_pylist([SWEBENCH_ROW]), path)
    assert read_rows(path) == [SWEBENCH_ROW]
    assert list(load_repo_dataset(path)) == ["astropy__astropy-12907"]


def test_written_tasks_load_back_as_the_same_suite(tmp_path):
    tasks = example_tasks(build=False)
    write_rows(tasks.values(), tmp_path / "examples.jsonl")
    loaded = load_repo_dataset(tmp_path)
    assert list(loaded) == list(tasks)
    assert [loaded[t].repo for t in loaded] == [tasks[t].repo for t in tasks]


def test_pdb_repo_needs_a_dataset_and_runs_only_on_docker(tmp_path):
    with pytest.raises(ValueError, match="data_dir"):
        gym.make("PDB-Repo-v0")
    (tmp_path / "swe.jsonl").write_text(json.dumps(SWEBENCH_ROW) + "\n")
    env = gym.make("PDB-Repo-v0", data_dir=str(tmp_path), sandbox="local")
    try:
        assert env.unwrapped.task_ids == ["astropy__astropy-12907"]
        with pytest.raises(RepositoryBackendError, match="only on the Docker backend"):
            env.reset()
    finally:
        env.close()
