"""``DockerSandbox``: the workspace's files and the processes of task code, in one container.

Task code runs as the container's unprivileged uid. Read-only task files
belong to root, mode 0444, in root-owned sticky folders: the program can
neither change, remove nor replace them. Small reads and writes go through the
root control shell, as the sandbox uid (a link the program planted gets its
rights, not root's); larger writes and resets are tar uploads.
"""

from __future__ import annotations

import base64
import os
import posixpath
import secrets
import time
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

from gym_pdb.sandbox.base import (
    BoundedBuffer,
    ExecResult,
    Limits,
    Sandbox,
    SandboxError,
    SandboxInfo,
    safe_relpath,
    sandbox_env,
)
from gym_pdb.sandbox.docker import lifecycle, protocol
from gym_pdb.sandbox.docker.container import Container, TarEntry, make_tar, parents
from gym_pdb.sandbox.docker.housekeeping import POOL_LABEL, release
from gym_pdb.sandbox.docker.process import DockerProcess
from gym_pdb.sandbox.docker.protocol import CONTROL_WRITE_MAX, PATH, SUPPORT_DIR, WORKDIR
from gym_pdb.sandbox.docker.transport import ExecStream, docker_sdk
from gym_pdb.sandbox.docker.warm import StreamedRun, WarmInterpreter, forkable_run, request_line, zygote_argv
from gym_pdb.sandbox.support import support_files
from gym_pdb.sandbox.warm import zygote_config


def _attach_setting(attach: bool | str | None) -> str | None:
    """The pool's label selector from the ``attach`` argument, or ``GYM_PDB_DOCKER_ATTACH`` when it is None."""
    if attach is None:
        attach = os.environ.get("GYM_PDB_DOCKER_ATTACH") or False
        if isinstance(attach, str) and attach.lower() in ("0", "false", "no", ""):
            attach = False
        elif isinstance(attach, str) and attach.lower() in ("1", "true", "yes"):
            attach = True
    return (POOL_LABEL if attach is True else attach) or None


class DockerSandbox(Sandbox):
    """Runs task code in a long-lived Docker container (or one claimed from a pool).

    Args:
        limits: resource limits (memory, processes, open files, file size, CPU
            seconds, output budget, network).
        image: the sandbox image (``GYM_PDB_IMAGE``, else ``gym-pdb-sandbox:latest``).
        client: a ``docker.DockerClient`` (default: ``docker.from_env()``).
        attach: take an idle container of a compose pool instead of creating
            one: True for any container labelled ``gym-pdb.pool``, or a label
            filter (``key`` or ``key=value``). Default: ``GYM_PDB_DOCKER_ATTACH``.
        cpus: CPU share (``nano_cpus``), default 1.0.
        workspace_bytes, tmp_bytes: sizes of the writable workspace and /tmp.
        workspace_volume: put the workspace on disk, in a local volume with these driver options
            (``{}``: no size quota); None (default): a tmpfs of ``workspace_bytes``.
        uid: the uid that runs task code (default: random, one per container).
        python: the interpreter in the image (found on PATH).
        labels: extra container labels.
        create_timeout: seconds to wait for the Docker daemon when creating.
        warm: run ``python SCRIPT`` and ``python -m MODULE`` by forking a warm
            interpreter in the container (``support/zygote.py``) instead of
            starting one.
    """

    def __init__(
        self,
        limits: Limits | None = None,
        image: str | None = None,
        client: Any = None,
        attach: bool | str | None = None,
        cpus: float = 1.0,
        workspace_bytes: int = 512 * 1024**2,
        tmp_bytes: int = 256 * 1024**2,
        uid: int | None = None,
        python: str = "python3",
        labels: Mapping[str, str] | None = None,
        create_timeout: float = 120.0,
        warm: bool = True,
        workspace_volume: Mapping[str, str] | None = None,
    ) -> None:
        self.limits = limits or Limits()
        self.image = image or lifecycle.default_image()
        self.attach = _attach_setting(attach)
        self.cpus = cpus
        self.workspace_bytes = workspace_bytes
        self.tmp_bytes = tmp_bytes
        self.workspace_volume = dict(workspace_volume) if workspace_volume is not None else None
        self._fixed_uid = uid
        self.labels = dict(labels or {})
        self.create_timeout = create_timeout
        self.forks_python = warm
        self._client = client
        self._c: Container | None = None
        self._closed = False
        self._processes: weakref.WeakSet[DockerProcess] = weakref.WeakSet()
        self._finalizer: weakref.finalize[[Container], DockerSandbox] | None = None
        self._support = support_files()
        self.info = SandboxInfo(
            workdir=WORKDIR,
            support_dir=SUPPORT_DIR,
            python=python,
            extra={"backend": "docker", "image": self.image, "attach": self.attach, "container": None, "uid": None},
        )

    # -- the container -----------------------------------------------------
    @property
    def client(self) -> Any:
        """The ``docker.DockerClient``, connected on first use.

        Raises:
            SandboxError: the Docker daemon cannot be reached.
        """
        if self._client is None:
            docker = docker_sdk()
            try:
                self._client = docker.from_env(timeout=int(self.create_timeout))
                self._client.ping()
            except docker.errors.DockerException as exc:
                self._client = None
                raise SandboxError(f"cannot reach the Docker daemon: {exc}") from exc
        return self._client

    @property
    def container_id(self) -> str | None:
        """The id of the container in use (None before first use)."""
        return self._c.id if self._c else None

    def _container(self) -> Container:
        """The container in use, created or claimed at first use; raises if it died or the sandbox is closed."""
        self._check_open()
        if self._c is None:
            self._c = self._claim() if self.attach else self._create()
            self.info.extra.update(container=self._c.id, uid=self._c.uid, name=self._c.name)
            self._finalizer = weakref.finalize(self, release, self._c)
            if self.forks_python:
                config = self._zygote_config(self._c.uid)
                self._c.warm = WarmInterpreter(self._c, self.info.python, config, self._env(None))
        if self._c.dead:
            raise SandboxError(self._c.dead)
        return self._c

    def _zygote_config(self, uid: int) -> str:
        """The warm interpreter's configuration (the container's ulimits hold already)."""
        return zygote_config(uid, [], self.info, self._env)

    def _new_uid(self) -> int:
        return self._fixed_uid if self._fixed_uid is not None else lifecycle.random_uid()

    def _create(self) -> Container:
        spec = lifecycle.ContainerSpec(
            self.image, self.limits, self.cpus, self.workspace_bytes, self.tmp_bytes, self.labels, self.workspace_volume
        )
        client = self.client
        return lifecycle.create(client, spec, self._new_uid(), lifecycle.support_tar(self._support))

    def _claim(self) -> Container:
        selector = self.attach or POOL_LABEL
        return lifecycle.claim(self.client, selector, self._new_uid, lifecycle.support_tar(self._support))

    # -- files -------------------------------------------------------------
    def reset_workspace(self, files: Mapping[str, bytes], readonly: Sequence[str] = ()) -> None:
        self._check_open()
        if self._c is not None and self._c.dead:
            self._drop_container()
        for proc in list(self._processes):
            proc.abandon()  # the scrub below kills every process of the sandbox uid
        locked = {safe_relpath(p) for p in readonly}
        entries: dict[str, TarEntry] = {}
        for path, content in files.items():
            rel = safe_relpath(path)
            for parent in parents(rel):
                entries.setdefault(parent, (parent, None, 0o1777, 0))
            entries[rel] = (rel, bytes(content), 0o444, 0) if rel in locked else (rel, bytes(content), 0o644, -1)
        for attempt in (0, 1):
            c = self._container()
            data = make_tar([(n, b, m, c.uid if u < 0 else u) for n, b, m, u in entries.values()])
            try:
                c.upload(WORKDIR, data, clear=True)
                return
            except SandboxError:
                if attempt or not c.dead:
                    raise
                self._drop_container()  # died between episodes: a new one, transparently

    def write_file(self, path: str, content: bytes, readonly: bool = False) -> None:
        c = self._container()
        rel = safe_relpath(path)
        if not readonly and len(content) <= CONTROL_WRITE_MAX and self._write_as_user(c, rel, bytes(content)):
            return
        if readonly:
            c.control(protocol.remove([f"{WORKDIR}/{rel}"]))  # root's file, never followed
        entry = (rel, bytes(content), 0o444, 0) if readonly else (rel, bytes(content), 0o644, c.uid)
        c.upload(WORKDIR, make_tar([(p, None, 0o1777, 0) for p in parents(rel)] + [entry]), clear=False)

    @staticmethod
    def _write_as_user(c: Container, rel: str, content: bytes) -> bool:
        """Write a small file through the control shell as the sandbox uid: a round trip, not an upload.

        False where the uid may not (a read-only task file, a missing folder): the caller uploads it instead.
        """
        full = f"{WORKDIR}/{rel}"
        tmp = f"{posixpath.dirname(full)}/.gym-pdb-write-{secrets.token_hex(4)}"
        data = base64.b64encode(content).decode()
        return protocol.written(c.control(protocol.write_file(c.uid, data, tmp, full), check=False))

    def workspace_digest(self) -> dict[str, str]:
        return protocol.parse_digest(self._container().control(protocol.DIGEST))

    def remove_paths(self, paths: Sequence[str]) -> None:
        if paths:
            c = self._container()
            c.control(protocol.remove([f"{WORKDIR}/{safe_relpath(p)}" for p in paths]))

    def read_file(self, path: str) -> bytes:
        # One round trip on the control shell (the archive API costs ~50 ms a call), read as the sandbox uid.
        c = self._container()
        rel = safe_relpath(path)
        out = c.control(protocol.read_file(c.uid, f"{WORKDIR}/{rel}" if rel != "." else WORKDIR))
        try:
            return protocol.parse_read(out, rel)
        except ValueError:
            raise SandboxError(f"cannot read {rel}: {out[-200:].decode(errors='replace')}") from None

    def remove_file(self, path: str) -> None:
        rel = safe_relpath(path)
        c = self._container()
        c.control(protocol.remove([WORKDIR + "/" + rel], uid=c.uid))

    # -- processes ---------------------------------------------------------
    def _env(self, extra: Mapping[str, str] | None) -> dict[str, str]:
        return sandbox_env(PATH, "/tmp", extra)

    def wait_warm(self, timeout: float) -> bool:
        if not self.forks_python:
            return False
        warm = self._container().warm
        return warm is not None and warm.wait(timeout)

    def _start(
        self, argv: Sequence[str], env: Mapping[str, str] | None, stdin: bool, records_key: bytes | None = None
    ) -> tuple[Container, ExecStream]:
        """An exec that runs ``argv``: a connector to the warm interpreter where it is up and can fork it."""
        argv = [str(a) for a in argv]
        if not argv:
            raise SandboxError("no command to run")
        c = self._container()
        full_env = self._env(env)
        if records_key is not None:
            return c, self._start_with_records(c, argv, full_env, records_key)
        request = c.warm.request(argv, full_env) if self.forks_python and c.warm is not None else None
        if request is not None:
            stream = c.exec(protocol.connector(request), user="0:0", stdin=stdin, keep_stderr=False)
        else:
            stream = c.exec(protocol.wrapped(argv), env=full_env, stdin=stdin, keep_stderr=False)
        return c, stream

    def _start_with_records(self, c: Container, argv: list[str], env: dict[str, str], key: bytes) -> ExecStream:
        """Start a run whose record channel a one-off root zygote relays (where no warm one can take it).

        The key goes on stdin, never in an argument; the program's stdin is empty.
        """
        if not forkable_run(argv, env, self.info.python, self._env(None)):
            raise SandboxError("a run with a record channel must be `python SCRIPT` or `python -m MODULE`")
        config = zygote_config(c.uid, [], self.info, self._env, prepared=False)
        stream = c.exec(
            zygote_argv(self.info.python, config, once=True), user="0:0", env=self._env(None), stdin=True, keep_stderr=False
        )
        stream.send(f"{key.hex()} {request_line(argv, env)}\n".encode())
        stream.shutdown_write()
        return stream

    def run(
        self,
        argv: Sequence[str],
        timeout: float,
        env: Mapping[str, str] | None = None,
        output_limit: int | None = None,
        records_key: bytes | None = None,
    ) -> ExecResult:
        start = time.monotonic()
        limit = output_limit or self.limits.output_bytes
        c = self._container()
        warm = c.warm if self.forks_python else None
        argv = [str(a) for a in argv]
        streamed = warm.start_run(argv, self._env(env), limit, records_key) if warm is not None and argv else None
        if warm is not None and streamed is not None:
            return self._run_streamed(c, warm, streamed, start, timeout)
        c, stream = self._start(argv, env, stdin=False, records_key=records_key)
        buf = BoundedBuffer(limit)
        timed_out = False
        try:
            deadline = start + timeout
            grace_end = None
            while not stream.eof:
                now = time.monotonic()
                if stream.rc is not None:
                    # Exited; a process that left its group may hold the output open.
                    grace_end = grace_end or now + 0.2
                    if now >= grace_end:
                        break
                    stream.pump(grace_end - now)
                elif now >= deadline:
                    timed_out = True
                    break
                else:
                    stream.pump(deadline - now)
                if stream.pending:
                    buf.add(stream.take())
            if timed_out:
                if stream.pid is not None:
                    c.kill_group(stream.pid)
                end = time.monotonic() + 5
                while not stream.eof and stream.rc is None and time.monotonic() < end:
                    stream.pump(end - time.monotonic())
            if stream.pending:
                buf.add(stream.take())
        finally:
            stream.close()
        if stream.rc is None and not timed_out:
            c.raise_if_dead()
        return ExecResult(
            exit_code=None if timed_out or stream.rc is None else protocol.exit_code(stream.rc),
            output=buf.getvalue(),
            timed_out=timed_out,
            truncated=buf.truncated,
            elapsed=time.monotonic() - start,
            records=bytes(stream.records),
        )

    @staticmethod
    def _run_streamed(c: Container, warm: WarmInterpreter, run: StreamedRun, start: float, timeout: float) -> ExecResult:
        """Wait for a run the warm interpreter started on its own stream; after ``timeout``, kill its process group."""
        timed_out = False
        try:
            if not warm.wait_run(run, start + timeout):
                timed_out = True
                end = time.monotonic() + 5
                while not run.ended and time.monotonic() < end:
                    if run.pid is not None:
                        c.kill_group(run.pid)
                    warm.wait_run(run, min(end, time.monotonic() + 0.5))
        finally:
            if not run.ended and run.pid is not None:
                c.kill_group(run.pid)  # given up (an exception here): the program stops too
            warm.forget(run)
        if run.code is None and not timed_out:
            c.raise_if_dead()
        return ExecResult(
            exit_code=None if timed_out else run.code,
            output=run.output.getvalue(),
            timed_out=timed_out,
            truncated=run.output.truncated,
            elapsed=time.monotonic() - start,
            records=bytes(run.records),
        )

    def spawn(self, argv: Sequence[str], env: Mapping[str, str] | None = None) -> DockerProcess:
        c, stream = self._start(argv, env, stdin=True)
        deadline = time.monotonic() + 30
        while stream.pid is None and not stream.eof and time.monotonic() < deadline:
            stream.pump(deadline - time.monotonic())
        if stream.pid is None:
            stream.close()
            c.raise_if_dead()
            raise SandboxError(f"could not start {argv[0]} in the sandbox container")
        proc = DockerProcess(stream, c, on_end=self._forget)
        self._processes.add(proc)
        return proc

    def _forget(self, proc: DockerProcess) -> None:
        self._processes.discard(proc)

    # -- life cycle ----------------------------------------------------------
    def _drop_container(self) -> None:
        if self._finalizer is not None:
            self._finalizer()
            self._finalizer = None
        self._c = None
        self.info.extra.update(container=None, uid=None)

    def _check_open(self) -> None:
        if self._closed:
            raise SandboxError("the sandbox is closed")

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for proc in list(self._processes):
            proc.abandon()
        self._drop_container()
