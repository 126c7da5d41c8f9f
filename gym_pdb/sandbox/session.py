"""The persistent pdb session of an episode, on any sandbox backend.

One debugger process per episode, driven through ``support/pdb_driver.py``.
Each command is one write and one read up to the session's sentinel; the
driver's prompt carries the state (frame, listing, breakpoints) as JSON, so
the host never guesses when pdb is done and never asks twice.

The host keeps the breakpoints: they survive restarts (a quit, the program
finishing, a timeout, a rewrite) and move with the code when lines are
rewritten above them.
"""

from __future__ import annotations

import json
import secrets
import threading
from dataclasses import asdict, dataclass, field

from gym_pdb.sandbox.base import InteractiveProcess, Sandbox, SandboxError

RUNNERS = ("python", "pytest")
QUIT_COMMANDS = {"q", "quit", "exit"}
RESTART_COMMANDS = {"restart", "run"}
STALE = "\x1egym-pdb-stale-standby"  # pdb_driver.STALE


@dataclass
class Breakpoint:
    file: str
    line: int
    cond: str | None = None
    temporary: bool = False


@dataclass
class Frame:
    file: str
    line: int
    function: str
    listing: str = ""
    post_mortem: bool = False


@dataclass
class PdbReply:
    """The result of one pdb command."""

    output: str
    frame: Frame | None
    restarted: bool = False
    ended: str = ""
    timed_out: bool = False
    truncated: bool = False
    notes: list[str] = field(default_factory=list)


class PdbSession:
    """A pdb process in a sandbox, restarted as needed, with host-side breakpoints.

    Args:
        sandbox: where the debugger runs.
        timeout: seconds a command may take before the program is stopped.
        output_limit: bytes of a command's output kept (head and tail).
        standbys: standby drivers kept ready for the next starts.
    """

    def __init__(self, sandbox: Sandbox, timeout: float = 10.0, output_limit: int = 16384, standbys: int = 2):
        self.sandbox = sandbox
        self.timeout = timeout
        self.output_limit = output_limit
        self.standbys = max(1, standbys)
        self.runner = "pytest"
        self.target = ""
        self.breakpoints: list[Breakpoint] = []
        self.frame: Frame | None = None
        self._process: InteractiveProcess | None = None
        self._standby: list[InteractiveProcess] = []  # oldest first
        self._standby_thread: threading.Thread | None = None
        self._standby_for: tuple[str, ...] = ()
        self._sentinel = b""
        self._state_mark = b""
        # The last state read and what it was read into: an unchanged state is not parsed again.
        self._state_read: tuple[bytes, Frame | None, list[Breakpoint]] | None = None

    # -- lifecycle ---------------------------------------------------------
    @property
    def active(self) -> bool:
        return self._process is not None and self._process.alive()

    @property
    def _live(self) -> InteractiveProcess:
        """The process of the session; only called once it has been spawned."""
        assert self._process is not None, "no pdb session was spawned"
        return self._process

    def start(self, runner: str, target: str) -> PdbReply:
        """(Re)start the debugger on ``target`` with ``runner`` (python or pytest)."""
        if runner not in RUNNERS:
            raise ValueError(f"runner must be one of {', '.join(RUNNERS)}, not {runner!r}")
        self.runner, self.target = runner, target
        return self._spawn()

    def restart(self) -> PdbReply:
        return self._spawn()

    def _spawn(self, retry: bool = True) -> PdbReply:
        """Start the debugger: hand the settings to the standby driver, then make a new standby.

        A standby for the pytest runner has prepared the session for its target
        (configuration and session start done); one that finds pytest's
        configuration files changed since says so, and a fresh one takes over.
        """
        self.stop()
        token = secrets.token_hex(8)
        self._sentinel = f"<<gym-pdb:{token}>>".encode()
        self._state_mark = f"\x1egym-pdb-state:{token}:".encode()
        config = {
            "runner": self.runner,
            "target": self.target,
            "sentinel": self._sentinel.decode(),
            "state_mark": self._state_mark.decode(),
            "breakpoints": [asdict(bp) for bp in self.breakpoints],
        }
        process = self._take_standby()
        process.write(json.dumps(config).encode() + b"\n")
        self._process = process
        self._prepare_standby()  # while this one starts: two cores start sooner than one
        reply = self._read(restarted=True)
        if retry and reply.ended and STALE in reply.output:
            self._join_standby()
            self._drop_standbys()  # prepared before the change too
            return self._spawn(retry=False)
        return reply

    def _prepare_standby(self) -> None:
        """Start standby drivers in the background, off the reply's path, up to ``standbys`` of them.

        Two let restarts that come back to back overlap: each takes one that
        has had the time of the previous restart to prepare.
        """
        key = self._standby_key()
        self._join_standby()
        if self._standby_for != key:
            self._drop_standbys()

        def start() -> None:
            try:
                while len(self._standby) < self.standbys:
                    self._standby.append(self._start_standby(key))
            except SandboxError:
                pass

        self._standby_thread = threading.Thread(target=start, name="gym-pdb-standby", daemon=True)
        self._standby_thread.start()

    def _join_standby(self) -> None:
        if self._standby_thread is not None:
            self._standby_thread.join()
            self._standby_thread = None

    def _drop_standbys(self) -> None:
        for process in self._standby:
            process.kill()
        self._standby = []

    def _standby_key(self) -> tuple[str, ...]:
        """What a standby is started for: pytest's is prepared for its target."""
        return ("pytest", self.target) if self.runner == "pytest" else (self.runner,)

    def _start_standby(self, key: tuple[str, ...]) -> InteractiveProcess:
        info = self.sandbox.info
        argv = [info.python, f"{info.support_dir}/pdb_driver.py", "--standby", *key]
        process = self.sandbox.spawn(argv, env={"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"})
        self._standby_for = key
        return process

    def _take_standby(self) -> InteractiveProcess:
        self._join_standby()
        if self._standby_for != self._standby_key():
            self._drop_standbys()
        while self._standby:
            process = self._standby.pop(0)
            if process.alive():
                return process
            process.kill()
        return self._start_standby(self._standby_key())

    def stop(self) -> None:
        """Stop the debugger (a standby driver stays ready for the next start)."""
        if self._process is not None:
            self._process.kill()
            self._process = None
        self.frame = None

    def close(self) -> None:
        """Stop the debugger and its standbys."""
        self.stop()
        self._join_standby()
        self._drop_standbys()

    def reset(self) -> None:
        """Forget the episode: stop everything, drop the breakpoints and the target, as a new session would."""
        self.close()
        self.runner = "pytest"
        self.target = ""
        self.breakpoints = []

    # -- commands ----------------------------------------------------------
    def command(self, line: str) -> PdbReply:
        """Send one pdb command; start the session first if none is running."""
        word = line.strip().split(maxsplit=1)[0].lower() if line.strip() else ""
        if not self.active:
            reply = self._spawn()
            if word in QUIT_COMMANDS | RESTART_COMMANDS or not self.active:
                return reply
            prefix = reply.output
        else:
            prefix = ""
            if word in QUIT_COMMANDS | RESTART_COMMANDS:
                reply = self._spawn()
                reply.notes.insert(0, "The pdb session was restarted; breakpoints kept.")
                return reply
        try:
            self._live.write(line.encode() + b"\n")
        except SandboxError:
            return self._spawn()
        reply = self._read()
        if prefix:
            reply.output = prefix + "\n" + reply.output
        return reply

    def _read(self, restarted: bool = False) -> PdbReply:
        process = self._live
        data, found = process.read_until(self._sentinel, self.timeout, self.output_limit)
        if found:
            output, _, state = data.rpartition(self._state_mark)
            self._apply_state(state)
            return PdbReply(
                output=self._clean(output), frame=self.frame, restarted=restarted, truncated=len(data) >= self.output_limit
            )
        if process.alive():
            return self._timed_out(data, restarted)
        ended = self._clean(data)
        code = process.exit_code
        self.stop()
        if restarted:
            return PdbReply(
                output=ended,
                frame=None,
                restarted=True,
                ended=f"The program ended (exit code {code}) before pdb could stop in it.",
            )
        # The program ended (finished, quit, crashed): start over, breakpoints kept.
        reply = self._spawn()
        reply.output = ended + ("\n" + reply.output if reply.ended else "")
        reply.ended = reply.ended or (
            f"The program ended (exit code {code}); the pdb session was restarted, breakpoints kept."
        )
        return reply

    def _timed_out(self, data: bytes, restarted: bool) -> PdbReply:
        process = self._live
        process.interrupt()
        more, _ = process.read_until(self._sentinel, 0.5, self.output_limit)
        stack = self._clean(more)
        self.stop()
        reply = self._spawn() if not restarted else PdbReply(output="", frame=None)
        reply.output = self._clean(data)
        reply.timed_out = True
        where = f"\nIt was stopped here:\n{stack.strip()}" if stack.strip() else ""
        reply.ended = (
            f"The command did not finish within {self.timeout:g}s (does the program loop forever?).{where}\n"
            + (
                "The pdb session was restarted; breakpoints kept."
                if not restarted
                else "The debugger did not reach its first prompt; fix the program or start pdb again."
            )
        )
        return reply

    def _apply_state(self, raw: bytes) -> None:
        last = self._state_read
        if last is not None and last[0] == raw and last[1] is self.frame and last[2] is self.breakpoints:
            return
        try:
            state = json.loads(raw.decode("utf-8", "replace"))
        except ValueError:
            return
        frame = state.get("frame")
        self.frame = Frame(**frame) if frame else None
        self.breakpoints = [
            Breakpoint(file=bp["file"], line=bp["line"], cond=bp.get("cond"), temporary=bool(bp.get("temporary")))
            for bp in state.get("breakpoints", [])
        ]
        self._state_read = (raw, self.frame, self.breakpoints)

    def _clean(self, data: bytes) -> str:
        text = data.decode("utf-8", "replace")
        workdir = self.sandbox.info.workdir.rstrip("/") + "/"
        return text.replace(workdir, "").replace(self.sandbox.info.support_dir.rstrip("/") + "/", "")

    # -- rewrites ------------------------------------------------------------
    def shift_breakpoints(self, path: str, start: int, end: int, new_length: int) -> list[Breakpoint]:
        """Lines start..end of ``path`` became ``new_length`` lines: move breakpoints.

        Breakpoints inside the rewritten range are dropped (and returned); those
        below it move by the change in length.
        """
        delta = new_length - (end - start + 1)
        kept, dropped = [], []
        for bp in self.breakpoints:
            if bp.file != path or bp.line < start:
                kept.append(bp)
            elif bp.line <= end:
                dropped.append(bp)
            else:
                kept.append(Breakpoint(bp.file, bp.line + delta, bp.cond, bp.temporary))
        self.breakpoints = kept
        return dropped
