"""The eval's record channel: numbered JSON lines, each authenticated with a per-run key.

The test process writes its records to a socket of its own (``GYM_PDB_RECORDS_FD``),
never to a file of the workspace. The host makes a fresh random key for each
run and writes it into that socket before the run starts; the eval plugin
reads it before any code of the workspace is imported, so the key is gone
from the channel by then. A line is ``TAG SEQ JSON``: ``TAG`` is an HMAC of
``SEQ JSON`` under the key, ``SEQ`` counts from 0. Whatever else reaches the
channel (a blind write to every open descriptor, a replayed or reordered
line, a line forged without the key) breaks the tag or the sequence, and the
reader reports it.

Stdlib only: the sandbox's plugin imports this file as ``records``, the host as
``gym_pdb.sandbox.support.records``.
"""

from __future__ import annotations

import hmac
import json
import os
from typing import Any, Callable, MutableMapping

KEY_BYTES = 32
FD_VARIABLE = "GYM_PDB_RECORDS_FD"
MAX_LINE = 1 << 20


def _tag(key: bytes, seq: int, body: str) -> str:
    return hmac.digest(key, b"%d %s" % (seq, body.encode()), "sha256").hex()[:32]


def take_channel(environ: MutableMapping[str, str] | None = None) -> tuple[int, bytes]:
    """In the test process: the channel's fd (from the environment, which forgets it) and the run's key."""
    env: MutableMapping[str, str] = os.environ if environ is None else environ
    fd = int(env.pop(FD_VARIABLE))
    key = b""
    while len(key) < KEY_BYTES:
        chunk = os.read(fd, KEY_BYTES - len(key))
        if not chunk:
            raise OSError("the record channel closed before its key came")
        key += chunk
    return fd, key


def writer(fd: int, key: bytes) -> Callable[[dict], None]:
    """A function that writes one record to ``fd``.

    Everything it uses is bound here, so that nothing the program later
    changes in this module, in ``json``, ``hmac`` or ``os`` reaches it.
    """
    dumps, write, tag, counter = json.dumps, os.write, _tag, [0]

    def write_record(
        record: dict, _dumps: Any = dumps, _write: Any = write, _tag: Any = tag, _key: bytes = key, _counter: list[int] = counter
    ) -> None:
        seq = _counter[0]
        _counter[0] = seq + 1
        body = _dumps(record, separators=(",", ":"))
        data = ("%s %d %s\n" % (_tag(_key, seq, body), seq, body)).encode()
        view = memoryview(data)
        while view:
            view = view[_write(fd, view) :]

    return write_record


class RecordReader:
    """The host's side: takes the channel's bytes, keeps the genuine records and says what else came."""

    def __init__(self, key: bytes):
        self.key = key
        self.records: list[dict[str, Any]] = []
        self.problems: list[str] = []
        self._pending = b""

    def feed(self, data: bytes) -> None:
        self._pending += data
        *lines, self._pending = self._pending.split(b"\n")
        for line in lines:
            self._line(line)
        if len(self._pending) > MAX_LINE:
            self._problem("a record line longer than any the plugin writes")
            self._pending = b""

    def close(self, cut: bool) -> None:
        """The channel ended; ``cut``: the run was stopped, so its last line may be unfinished."""
        if self._pending and not cut:
            self._problem("bytes after the last record that are not a record")
        self._pending = b""

    def _line(self, line: bytes) -> None:
        try:
            tag, seq_text, body = line.decode().split(" ", 2)
            seq = int(seq_text)
        except (UnicodeDecodeError, ValueError):
            self._problem("a line on the record channel that is not a record")
            return
        if not hmac.compare_digest(tag, _tag(self.key, seq, body)):
            self._problem("a record that does not carry the run's key (forged)")
            return
        if seq != len(self.records):
            self._problem(f"record {seq} where record {len(self.records)} was due (replayed or reordered)")
            return
        try:
            record = json.loads(body)
        except ValueError:
            self._problem("an authenticated record that is not JSON")
            return
        self.records.append(record if isinstance(record, dict) else {})

    def _problem(self, text: str) -> None:
        if text not in self.problems:
            self.problems.append(text)
