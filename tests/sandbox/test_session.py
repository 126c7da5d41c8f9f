"""The persistent pdb session, on every backend."""

from __future__ import annotations

import pytest

from gym_pdb.sandbox import make_sandbox
from gym_pdb.sandbox.session import Breakpoint, PdbSession

PROGRAM = b"""def total(items):
    acc = 0
    for item in items:
        acc += item
    return acc


def spin():
    while True:
        pass


print(total([1, 2, 3]))
"""
TEST = b"""from prog import total, spin


def test_total():
    assert total([1, 2]) == 3


def test_spin():
    spin()
"""


@pytest.fixture
def session(backend):
    sandbox = make_sandbox(backend)
    sandbox.reset_workspace({"prog.py": PROGRAM, "test.py": TEST}, readonly=["test.py"])
    # Generous: a start on a loaded two-core CI machine can take seconds; the hang test sets its own.
    s = PdbSession(sandbox, timeout=30)
    yield s
    s.stop()
    sandbox.close()


def test_one_round_trip_gives_output_frame_and_listing(session):
    reply = session.start("python", "prog.py")
    assert reply.frame.file == "prog.py" and reply.frame.line == 1
    reply = session.command("b prog.py:4")
    assert "Breakpoint 1 at prog.py:4" in reply.output
    assert [(b.file, b.line) for b in session.breakpoints] == [("prog.py", 4)]
    reply = session.command("c")
    assert (reply.frame.file, reply.frame.line, reply.frame.function) == ("prog.py", 4, "total")
    assert "B->" in reply.frame.listing
    assert session.command("p acc, item").output.strip() == "(0, 1)"


def test_pytest_runner_stops_in_the_test(session):
    reply = session.start("pytest", "test.py::test_total")
    assert reply.frame.file == "test.py" and reply.frame.function == "test_total"
    session.command("b prog.py:5")
    reply = session.command("c")
    assert reply.frame.function == "total"
    assert session.command("p acc").output.strip() == "3"


def test_breakpoints_survive_restarts_and_quit(session):
    session.start("python", "prog.py")
    session.command("b prog.py:4")
    reply = session.command("q")
    assert reply.frame.line == 1
    assert [(b.file, b.line) for b in session.breakpoints] == [("prog.py", 4)]
    assert session.command("c").frame.line == 4


def test_program_end_restarts_the_session(session):
    session.start("python", "prog.py")
    reply = session.command("c")
    assert "6" in reply.output and "ended" in reply.ended
    assert session.active and reply.frame.line == 1


def test_hang_under_continue_is_stopped_and_restarted(session):
    session.start("pytest", "test.py::test_spin")
    session.timeout = 3
    session.command("b prog.py:2")
    reply = session.command("c")
    assert reply.timed_out
    assert "did not finish within 3s" in reply.ended and "spin" in reply.ended
    assert session.active and reply.frame is not None
    assert [(b.file, b.line) for b in session.breakpoints] == [("prog.py", 2)]
    assert session.command("p 1 + 1").output.strip() == "2"


def test_pdb_output_and_the_programs_keep_their_order(session):
    """pdb's output is buffered until its prompt or until the program runs on: never behind the program's."""
    session.sandbox.write_file(
        "talk.py", b"def f(i):\n    print('in f', i)\n    return i\n\n\nfor i in range(3):\n    f(i)\nprint('end')\n"
    )
    session.start("python", "talk.py")
    session.command("b talk.py:2")
    # A breakpoint whose commands print and continue: pdb writes, then the program runs without a prompt.
    for line in ("commands 1", "silent", "p 'bp', i", "continue", "end"):
        session.command(line)
    reply = session.command("c")
    shown = [line for line in reply.output.splitlines() if "bp" in line or "in f" in line or "end" in line]
    assert shown == ["('bp', 0)", "in f 0", "('bp', 1)", "in f 1", "('bp', 2)", "in f 2", "end"], reply.output


def test_every_reply_carries_the_state_it_leaves(session):
    """The driver sends the state again only from what it is made of; each change must still arrive."""
    session.start("python", "prog.py")
    assert session.command("p 1").frame.line == 1
    reply = session.command("b prog.py:4")
    assert [line[5] for line in reply.frame.listing.splitlines()] == [" ", " ", " ", "B"]  # lines 1-4, "%4d B"
    assert [(b.file, b.line) for b in session.breakpoints] == [("prog.py", 4)]
    first = session.command("c").frame
    assert (first.line, first.function) == (4, "total")
    again = session.command("c").frame  # the same line in the next iteration: same frame, same state
    assert (again.line, again.function) == (4, "total")
    assert session.command("p item").output.strip() == "2"
    assert session.command("u").frame.function == "<module>"
    assert session.command("d").frame.function == "total"
    session.command("disable 1")
    assert session.command("n").frame.line == 3
    session.command("cl 1")
    assert session.breakpoints == []
    assert session.command("p acc").output.strip() == "3"


def test_shift_breakpoints_after_a_rewrite(session):
    session.breakpoints = [Breakpoint("prog.py", 2), Breakpoint("prog.py", 4), Breakpoint("prog.py", 9), Breakpoint("test.py", 9)]
    dropped = session.shift_breakpoints("prog.py", 3, 4, 4)
    assert [(b.file, b.line) for b in dropped] == [("prog.py", 4)]
    assert [(b.file, b.line) for b in session.breakpoints] == [("prog.py", 2), ("prog.py", 11), ("test.py", 9)]


def test_restored_breakpoint_on_a_blank_line_is_reported(session):
    session.breakpoints = [Breakpoint("prog.py", 6)]
    reply = session.start("python", "prog.py")
    assert "Could not restore breakpoint at prog.py:6" in reply.output


def test_program_input_does_not_eat_commands(session):
    session.sandbox.write_file("ask.py", b"x = input()\nprint('got', repr(x))\n")
    session.start("python", "ask.py")
    reply = session.command("n")
    assert "EOFError" in reply.output or reply.frame is not None
    assert session.command("p 40 + 2").output.strip().endswith("42")


def test_huge_output_is_cut(session):
    session.sandbox.write_file("loud.py", b"print('x' * 5_000_000)\nprint('done')\n")
    session.start("python", "loud.py")
    reply = session.command("n")
    assert len(reply.output) <= session.output_limit + 200
    assert session.command("p 'still here'").output.strip() == "'still here'"


def test_a_prepared_pytest_standby_is_not_used_once_the_configuration_changed(session):
    session.sandbox.write_file("test_checks.py", b"def test_a():\n    x = 1\n\n\ndef check_b():\n    y = 2\n")
    reply = session.start("pytest", "test_checks.py")
    assert reply.frame is not None and reply.frame.function == "test_a", reply.output
    session._join_standby()
    assert session._standby_for == ("pytest", "test_checks.py")  # the next start is prepared
    session.sandbox.write_file("pytest.ini", b"[pytest]\npython_functions = check_*\n")
    reply = session.restart()
    assert reply.frame is not None and reply.frame.function == "check_b", reply.output
    assert "stale" not in reply.output
    session.sandbox.remove_file("pytest.ini")
    session.sandbox.write_file("test_checks.py", b"def test_c():\n    z = 3\n")
    reply = session.restart()  # a program change is not a configuration change: the standby goes on
    assert reply.frame.function == "test_c"


def test_the_driver_and_the_host_agree_on_what_they_share():
    """The driver runs in the sandbox, where gym_pdb is not: what both sides need is written twice."""
    from gym_pdb.sandbox import session
    from gym_pdb.sandbox.support import UNUSED_PLUGINS, pdb_driver

    # the zygote's prebuilt pytest config serves both only while they block the same plugins
    assert pdb_driver.UNUSED_PLUGINS == list(UNUSED_PLUGINS)
    assert pdb_driver.STALE == session.STALE
