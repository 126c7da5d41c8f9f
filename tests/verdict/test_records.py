"""The record channel's framing: genuine records pass, anything else is reported."""

from __future__ import annotations

import os
import secrets
import socket

from gym_pdb.sandbox.support import records
from gym_pdb.sandbox.support.records import KEY_BYTES, RecordReader


def written(key: bytes, items: list[dict]) -> bytes:
    ours, theirs = socket.socketpair()
    write = records.writer(theirs.fileno(), key)
    for item in items:
        write(item)
    theirs.close()
    data = b""
    while chunk := ours.recv(65536):
        data += chunk
    ours.close()
    return data


def read(key: bytes, data: bytes, cut: bool = False) -> RecordReader:
    reader = RecordReader(key)
    for i in range(0, len(data), 7):  # in pieces, as a socket delivers them
        reader.feed(data[i : i + 7])
    reader.close(cut)
    return reader


def test_genuine_records_come_through_in_order():
    key = secrets.token_bytes(KEY_BYTES)
    items = [{"e": "collected", "ids": ["t.py::a"]}, {"e": "call", "id": "t.py::a", "outcome": "passed"}, {"e": "end"}]
    reader = read(key, written(key, items))
    assert reader.records == items and not reader.problems


def test_a_record_forged_without_the_key_is_reported():
    key = secrets.token_bytes(KEY_BYTES)
    forged = written(secrets.token_bytes(KEY_BYTES), [{"e": "call", "id": "t.py::a", "outcome": "passed"}])
    reader = read(key, written(key, [{"e": "collected", "ids": []}]) + forged)
    assert reader.records == [{"e": "collected", "ids": []}]
    assert reader.problems == ["a record that does not carry the run's key (forged)"]


def test_a_blind_write_is_reported():
    key = secrets.token_bytes(KEY_BYTES)
    good = written(key, [{"e": "collected", "ids": []}, {"e": "end"}])
    first, second = good.split(b"\n", 1)
    reader = read(key, first + b"\n" + b'{"event": "test", "outcome": "passed"}\n' + second)
    assert reader.problems == ["a line on the record channel that is not a record"]
    assert read(key, good + b"junk").problems == ["bytes after the last record that are not a record"]
    assert read(key, good + b"junk", cut=True).problems == []  # a stopped run's last line


def test_a_replayed_or_reordered_record_is_reported():
    key = secrets.token_bytes(KEY_BYTES)
    lines = written(key, [{"n": 0}, {"n": 1}, {"n": 2}]).splitlines(keepends=True)
    assert read(key, lines[0] + lines[1] + lines[1] + lines[2]).problems == [
        "record 1 where record 2 was due (replayed or reordered)"
    ]
    assert read(key, lines[0] + lines[2] + lines[1]).problems[0].startswith("record 2 where record 1")


def test_the_key_is_taken_from_the_channel_and_the_variable_forgotten():
    key = secrets.token_bytes(KEY_BYTES)
    ours, theirs = socket.socketpair()
    ours.sendall(key + b"rest")
    environ = {records.FD_VARIABLE: str(theirs.fileno())}
    fd, got = records.take_channel(environ)
    assert (fd, got) == (theirs.fileno(), key) and environ == {}
    assert os.read(fd, 4) == b"rest"
    ours.close()
    theirs.close()
