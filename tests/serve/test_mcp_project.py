"""``gym-pdb mcp`` driven by the MCP SDK's own client over stdio, on a project folder in place."""

from __future__ import annotations

import asyncio
import os
import sys
import textwrap

from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from servelib import REPO

PROGRAM = textwrap.dedent(
    """\
    def mean(xs):
        total = 0
        for x in xs:
            total += x
        return total / (len(xs) - 1)
    """
)
TESTS = textwrap.dedent(
    """\
    from stats import mean


    def test_mean(numbers):
        assert mean(numbers) == 2


    def test_tamper():
        open(__file__, "a").write("# changed by the run\\n")
    """
)


def _project(tmp_path):
    root = tmp_path / "proj"
    (root / "tests").mkdir(parents=True)
    (root / "stats.py").write_text(PROGRAM)
    (root / "tests" / "test_stats.py").write_text(TESTS)
    (root / "tests" / "__init__.py").write_text("")
    (root / "tests" / "conftest.py").write_text("import pytest\n\n\n@pytest.fixture\ndef numbers():\n    return [1, 2, 3]\n")
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    os.chmod(root / "stats.py", 0o640)
    return root


async def _session(root, *extra):
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "gym_pdb.cli", "mcp", "--workspace", str(root), "--python", sys.executable, *extra],
        cwd=str(REPO),
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    return stdio_client(params)


def test_sdk_client_debugs_a_project_in_place(tmp_path):
    root = _project(tmp_path)

    async def main():
        async with await _session(root, "--readonly", "tests/*", "--test-command", "python -m pytest -q tests") as (
            read,
            write,
        ):
            async with ClientSession(read, write) as session:
                await session.initialize()
                tools = {t.name: t for t in (await session.list_tools()).tools}
                assert set(tools) == {"pdb", "rewrite", "view", "eval", "grep", "listdir"}
                assert tools["rewrite"].inputSchema["required"] == ["path", "new_code"]

                async def call(name, **arguments):
                    result = await session.call_tool(name, arguments)
                    assert not result.isError, result
                    return result.content[0].text

                listing = await call("listdir")
                assert "stats.py" in listing and "test_stats.py" in listing and ".git" not in listing
                assert "total / (len(xs) - 1)" in await call("view", path="stats.py")
                report = await call("eval")
                assert "1 failed" in report and "exit status 1" in report
                assert "put back: tests/test_stats.py" in report  # the run changed a read-only file
                assert (root / "tests" / "test_stats.py").read_text() == TESTS

                started = await call("pdb", command="start", runner="pytest", file="tests/test_stats.py::test_mean")
                assert "Started pdb" in started
                await call("pdb", command="b stats.py:5")
                stopped = await call("pdb", command="c")
                assert "stats.py:5" in stopped
                assert "6" in await call("pdb", command="p total")
                assert "2" in await call("pdb", command="p len(xs) - 1")

                refused = await call("rewrite", path="tests/test_stats.py", start=1, end=1, new_code="")
                assert "read-only" in refused
                diff = await call("rewrite", path="stats.py", start=5, end=5, new_code="    return total / len(xs)")
                assert "+    return total / len(xs)" in diff
                assert (root / "stats.py").read_text().rstrip().endswith("return total / len(xs)")  # in place
                assert oct(os.stat(root / "stats.py").st_mode & 0o777) == oct(0o640)  # its mode kept

                (root / "extra.py").write_text("X = 41 + 1\n")  # the user edits between calls: seen at once
                assert "X = 41" in await call("grep", pattern="41")
                report = await call("eval")
                assert "2 passed" in report and "exit status 0" in report

    asyncio.run(asyncio.wait_for(main(), timeout=240))
    assert (root / ".git" / "HEAD").read_text() == "ref: refs/heads/main\n"
