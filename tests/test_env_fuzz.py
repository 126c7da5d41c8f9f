"""2,000 random and malformed actions: never an exception, and the env stays solvable.

Then characters no tool can take (lone surrogates, which cannot be encoded as
UTF-8) and those they take as they are (NUL, control characters, line breaks,
characters beyond the BMP), in every argument of every tool, on each backend.
"""

from __future__ import annotations

import json
import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gym_pdb.env import PDBEnv
from tests.conftest import BACKENDS, require_backend

TOOL_NAMES = ["pdb", "rewrite", "view", "eval", "grep", "listdir", "submit", "shell", ""]
ARG_NAMES = ["command", "runner", "file", "path", "start", "end", "new_code", "pattern", "max_results", "depth",
             "include_line_numbers_and_breakpoints", "bogus"]  # fmt: skip
PDB_COMMANDS = ["b solution.py:3", "b 99", "c", "n", "s", "p start", "p values", "pp locals()", "l", "ll", "w", "u",
                "d", "a", "cl 1", "q", "restart", "start", "tbreak solution.py:6", "j 2", "display x", "interact",
                "p (", "!x = 1", ""]  # fmt: skip

# Lone surrogates, NUL, control characters, the line breaks of str.splitlines, beyond the BMP.
ODD_CHARS = ["\ud800", "\udcff", "\udfff", "\x00", "\x01", "\x0b", "\x1b", "\x1e", "\x7f", "\r", "\x85", "\u2028",
             "\ufffe", "\U0001f600"]  # fmt: skip
odd_text = st.text(st.one_of(st.characters(exclude_categories=()), st.sampled_from(ODD_CHARS)), max_size=30)


@st.composite
def with_odd_chars(draw, text: st.SearchStrategy[str]) -> str:
    """A valid argument with odd characters put in."""
    out = draw(text)
    for char in draw(st.lists(st.sampled_from(ODD_CHARS), min_size=1, max_size=3)):
        at = draw(st.integers(0, len(out)))
        out = out[:at] + char + out[at:]
    return out


values = st.one_of(
    st.none(), st.booleans(), st.integers(-5, 50), st.text(max_size=30), st.sampled_from(PDB_COMMANDS), odd_text,
    st.sampled_from(["solution.py", "test.py", "../x", "/etc/passwd", ".", "pytest", "python", "test.py::test_bad_window"]),
    st.lists(st.integers(), max_size=3),
)  # fmt: skip
json_calls = st.builds(
    lambda name, args, as_string: json.dumps({"name": name, "arguments": json.dumps(args) if as_string else args}),
    st.sampled_from(TOOL_NAMES),
    st.dictionaries(st.sampled_from(ARG_NAMES), values, max_size=4),
    st.booleans(),
)
command_lines = st.builds(
    lambda name, rest: f"{name} {rest}",
    st.sampled_from(TOOL_NAMES + ["b", "c", "pdb start"]),
    st.one_of(st.text(alphabet=string.printable, max_size=40), st.sampled_from(PDB_COMMANDS)),
)
garbage = st.one_of(
    st.text(max_size=80),
    odd_text,
    st.binary(max_size=40),
    st.sampled_from(["{", "[", "<tool_call>", "<tool_call>{}</tool_call>", '{"function": 3}', "null", "\x00", "\n\n"]),
)
actions = st.one_of(json_calls, command_lines, garbage)


@pytest.fixture(scope="module")
def env():
    e = PDBEnv(suite="Demo", pdb_timeout=2, test_timeout=1, eval_timeout=10)
    yield e
    e.close()


@settings(max_examples=20, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(st.lists(actions, min_size=100, max_size=100))
def test_random_actions_never_raise(env, batch):
    env.reset(options={"task_id": "running_mean"})
    for action in batch:
        obs, reward, terminated, truncated, info = env.step(action)
        assert env.observation_space.contains(obs)
        assert isinstance(reward, float) and not truncated
        assert set(info) >= {"task_id", "tool", "parse_error"}
        if terminated:
            env.reset(options={"task_id": "running_mean"})
    gold = env.tasks["running_mean"].gold_files["solution.py"]
    env.step({"name": "rewrite", "arguments": {"path": "solution.py", "new_code": gold}})
    obs, reward, terminated, _, info = env.step("eval")
    assert info["resolved"] and terminated and reward == 1.0, obs


# -- odd characters in every argument of every tool ----------------------------------------------------
PATHS = st.sampled_from(["solution.py", "test.py", ".", "new.py"])


def call(name: str, **arguments: st.SearchStrategy) -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries({"name": st.just(name), "arguments": st.fixed_dictionaries(arguments)})


odd_calls = st.one_of(
    call("pdb", command=with_odd_chars(st.sampled_from(PDB_COMMANDS))),
    call("pdb", command=st.just("start"), file=with_odd_chars(st.just("test.py"))),
    call("rewrite", path=PATHS, new_code=with_odd_chars(st.just("x = 1\n"))),
    call("rewrite", path=with_odd_chars(PATHS), new_code=st.just("x = 1\n")),
    call("view", path=with_odd_chars(PATHS)),
    call("grep", pattern=with_odd_chars(st.just("def")), path=PATHS),
    call("listdir", path=with_odd_chars(st.just("."))),
)
odd_actions = st.one_of(
    odd_calls,
    odd_calls.map(json.dumps),  # lone surrogates as \ud800 escapes
    odd_calls.map(lambda a: json.dumps(a, ensure_ascii=False).encode("utf-8", "surrogatepass")),  # invalid UTF-8
    st.builds(lambda name, rest: f"{name} {rest}", st.sampled_from(["pdb", "view", "grep", "listdir"]), odd_text),
)


@pytest.fixture(scope="module", params=BACKENDS)
def any_env(request):
    require_backend(request.param)
    e = PDBEnv(suite="Demo", sandbox=request.param, pdb_timeout=2, test_timeout=1, eval_timeout=10)
    yield e
    e.close()


def step_ok(env: PDBEnv, action) -> str:
    obs, reward, terminated, truncated, info = env.step(action)
    assert env.observation_space.contains(obs) and not truncated
    return obs


def assert_still_works(env: PDBEnv, original: str) -> None:
    """The files are as they were and the debugger answers an honest command with its own reply."""
    assert env.workspace_files()["solution.py"] == original
    obs = step_ok(env, "pdb p 6 * 7")
    assert "\n42\n" in "\n" + obs and "gym-pdb" not in obs, obs


LONE = "a lone surrogate, which cannot be encoded as UTF-8"
REFUSED = [
    ({"name": "pdb", "arguments": {"command": "p '\ud800'"}}, "pdb: command contains '\\ud800' at position 4: " + LONE),
    ('{"name": "pdb", "arguments": {"command": "p \'\\ud800\'"}}', "pdb: command contains '\\ud800' at position 4"),
    ("<tool_call>pdb p 1 + '\udcff'</tool_call>", "pdb: command contains '\\udcff' at position 8"),
    ({"name": "pdb", "arguments": {"command": "start", "file": "test.py::t\udfff"}}, "pdb: file contains '\\udfff'"),
    (
        {"name": "rewrite", "arguments": {"path": "solution.py", "new_code": "x = 1\ny = '\udcff'\n"}},
        "rewrite: new_code contains '\\udcff' at line 2, column 6: " + LONE,
    ),
    ("rewrite solution.py 1:1\nx = '\ud800'", "rewrite: new_code contains '\\ud800' at position 6"),
    ({"name": "rewrite", "arguments": {"path": "solut\udfffion.py", "new_code": "x = 1\n"}}, "rewrite: path contains"),
    ({"name": "view", "arguments": {"path": "solution.py\ud800"}}, "view: path contains '\\ud800'"),
    ({"name": "grep", "arguments": {"pattern": "def\ud800"}}, "grep: pattern contains '\\ud800'"),
    ({"name": "listdir", "arguments": {"path": "\udc80"}}, "listdir: path contains '\\udc80'"),
]


NOT_WRITTEN = [
    ({"name": "rewrite", "arguments": {"path": "solution.py/x", "new_code": "x"}}, "solution.py/x: solution.py is a file"),
    ({"name": "rewrite", "arguments": {"path": "a" * 300, "new_code": "x"}}, "the path is too long"),
    ({"name": "rewrite", "arguments": {"path": "d/" * 2000 + "x.py", "new_code": "x"}}, "the path is too long"),
    ({"name": "pdb", "arguments": {"command": b"p 1"}}, "pdb: command must be a string, not bytes"),
    ({"name": "pdb", "arguments": {("a", 1): "p 1"}}, "The arguments of pdb are named by strings."),
]  # fmt: skip


def test_what_no_tool_can_take_is_refused_and_says_where(any_env):
    any_env.reset(options={"task_id": "running_mean"})
    original = any_env.workspace_files()["solution.py"]
    step_ok(any_env, "pdb p 1")
    for action, message in REFUSED:
        obs = step_ok(any_env, action)
        assert obs.startswith("Error: " + message) and "as the escape \\u" in obs, (action, obs)
    for action, message in NOT_WRITTEN:
        assert message in step_ok(any_env, action), action
    assert_still_works(any_env, original)


def test_odd_characters_that_can_be_sent_are_sent_as_they_are(any_env):
    any_env.reset(options={"task_id": "running_mean"})
    original = any_env.workspace_files()["solution.py"]
    step_ok(any_env, "pdb p 1")
    obs = step_ok(any_env, {"name": "pdb", "arguments": {"command": "p 'a\x01\x1b\x85\u2028\U0001f600'"}})
    assert obs.startswith("'a\\x01\\x1b\\x85\\u2028\\U0001f600'\n"), obs
    obs = step_ok(any_env, {"name": "pdb", "arguments": {"command": "p 'a\x00'"}})
    assert obs.startswith("*** ValueError: source code string cannot contain null bytes"), obs
    # "\r" ends a command where the driver reads it: two commands, two replies, nothing left over for the next
    obs = step_ok(any_env, {"name": "pdb", "arguments": {"command": "p 11\rp 22\r\np 33"}})
    assert "(Pdb) p 11\n" in obs and "(Pdb) p 22\n22\n" in obs and "(Pdb) p 33\n33\n" in obs and "gym-pdb" not in obs
    assert_still_works(any_env, original)
    # invalid UTF-8 in a bytes action is replaced; NUL in code is written (and reported as not compiling)
    obs = step_ok(any_env, b'{"name": "pdb", "arguments": {"command": "p 1 \xed\xa0\x80\xff"}}')
    assert "SyntaxError" in obs, obs
    obs = step_ok(any_env, {"name": "rewrite", "arguments": {"path": "new.py", "new_code": "x = '\x00\U0001f600'\n"}})
    assert "Rewrote new.py" in obs and "does not compile" in obs, obs
    assert any_env.workspace_files()["new.py"] == "x = '\x00\U0001f600'\n"
    assert_still_works(any_env, original)
    gold = any_env.tasks["running_mean"].gold_files["solution.py"]
    step_ok(any_env, {"name": "rewrite", "arguments": {"path": "solution.py", "new_code": gold}})
    obs, reward, terminated, _, info = any_env.step("eval")
    assert info["resolved"] and terminated and reward == 1.0, obs


def test_a_file_the_program_put_in_the_way(env):
    env.reset(options={"task_id": "running_mean"})
    step_ok(env, "pdb !open('made', 'w').close()")
    obs = step_ok(env, {"name": "rewrite", "arguments": {"path": "made/x.py", "new_code": "x = 1\n"}})
    assert obs.startswith("Error: cannot write made/x.py: "), obs
    assert "made/x.py" not in env.workspace_files()
    assert_still_works(env, env.workspace_files()["solution.py"])


@settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
@given(st.lists(odd_actions, min_size=40, max_size=40))
def test_odd_characters_never_raise(env, batch):
    env.reset(options={"task_id": "running_mean"})
    original = env.workspace_files()["solution.py"]
    for action in batch:
        step_ok(env, action)
    env.step({"name": "rewrite", "arguments": {"path": "solution.py", "new_code": original}})
    assert_still_works(env, original)
