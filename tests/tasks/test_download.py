"""``gym-pdb download`` and download-on-first-use, against a loopback HTTP server."""

from __future__ import annotations

import gzip
import hashlib
import http.server
import io
import json
import tarfile
import threading

import gymnasium as gym
import pytest

import gym_pdb  # noqa: F401 - registers the environments
from gym_pdb.cli import main
from gym_pdb.tasks.download import DownloadError, Source, download, download_source, installed, tree_digest

TASK = {
    "add/add_code.py": "def add(a, b):\n    return a - b\n",
    "add/test.py": "from add_code import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n",
    "add/.debugreadonly": "test.py\n",
}


class Server:
    """Serves ``files`` (path -> bytes) on 127.0.0.1; counts the requests."""

    def __init__(self):
        self.files: dict[str, bytes] = {}
        self.requests: list[str] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                outer.requests.append(self.path)
                body = outer.files.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{path}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = Server()
    yield s
    s.close()


def tarball(files: dict[str, str], top: str = "repo-0123abc") -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for path, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{top}/{path}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def release(server: Server) -> tuple[Source, bytes]:
    """A SWE-PDB-like release: a mini_nightmare suite in data/, plus files that must be left out."""
    files = {f"data/mini_nightmare/{p}": t for p, t in TASK.items()}
    files["README.md"] = "not wanted\n"
    files["data/mini_nightmare/mini_nightmare.md"] = "### 1.add\nAddition.\n\nHint:\n\nPlus, not minus.\n"
    archive = tarball(files)
    server.files["/release.tar.gz"] = archive
    source = Source(
        name="swe-pdb",
        url=server.url("/release.tar.gz"),
        kind="tar.gz",
        members=(("data/", "swe-pdb/"),),
        suites=("mini_nightmare",),
        sha256=hashlib.sha256(archive).hexdigest(),
    )
    return source, archive


def test_download_verifies_and_lays_out_the_files(server, tmp_path):
    source, _ = release(server)
    download_source(source, tmp_path, progress=False)
    suite = tmp_path / "swe-pdb" / "mini_nightmare"
    assert (suite / "add" / "add_code.py").read_text() == TASK["add/add_code.py"]
    assert not (tmp_path / "README.md").exists() and not (tmp_path / "swe-pdb" / "README.md").exists()
    assert installed(source, tmp_path)
    record = json.loads((tmp_path / ".sources" / "swe-pdb.json").read_text())
    assert record["sha256"] == source.sha256 and record["tree_sha256"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".staging")] == []
    download_source(source, tmp_path, progress=False)
    assert server.requests == ["/release.tar.gz"]  # already there: not fetched again


def test_a_corrupted_archive_is_refused_and_leaves_the_cache_clean(server, tmp_path):
    source, archive = release(server)
    server.files["/release.tar.gz"] = archive[:-40] + bytes(40)
    with pytest.raises(DownloadError, match="checksum mismatch") as err:
        download_source(source, tmp_path, progress=False)
    assert "nothing was written" in str(err.value)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
    assert not installed(source, tmp_path)


def test_a_broken_archive_pinned_by_tree_only_says_it_is_not_an_archive(server, tmp_path):
    source, archive = release(server)
    server.files["/release.tar.gz"] = archive[: len(archive) // 2]
    tree_pinned = Source(source.name, source.url, "tar.gz", source.members, source.suites, tree_sha256="0" * 64)
    with pytest.raises(DownloadError, match="not a valid tar.gz"):
        download_source(tree_pinned, tmp_path, progress=False)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_tree_checksum_is_independent_of_compression(server, tmp_path):
    source, _ = release(server)
    other = tarball({f"data/mini_nightmare/{p}": t for p, t in TASK.items()} | {
        "data/mini_nightmare/mini_nightmare.md": "### 1.add\nAddition.\n\nHint:\n\nPlus, not minus.\n"
    }, top="elsewhere")  # fmt: skip
    assert other != server.files["/release.tar.gz"]
    download_source(source, tmp_path / "a", progress=False)
    expected = tree_digest(tmp_path / "a" / "swe-pdb").encode()
    server.files["/other.tar.gz"] = other
    pinned = Source("swe-pdb", server.url("/other.tar.gz"), "tar.gz", source.members, tree_sha256=None, sha256=None)
    with pytest.warns(UserWarning, match="no pinned checksum"):
        download_source(pinned, tmp_path / "b", progress=False)
    assert tree_digest(tmp_path / "b" / "swe-pdb").encode() == expected


def test_gz_and_plain_files(server, tmp_path):
    lines = b'{"task_id": "Python/0"}\n'
    server.files["/x.jsonl.gz"] = gzip.compress(lines)
    server.files["/y.jsonl"] = lines
    gz = Source("x", server.url("/x.jsonl.gz"), "gz", (("", "upstream/x/x.jsonl"),), sha256=hashlib.sha256(gzip.compress(lines)).hexdigest())
    plain = Source("y", server.url("/y.jsonl"), "file", (("", "upstream/y.jsonl"),), sha256=hashlib.sha256(lines).hexdigest())
    for source in (gz, plain):
        download_source(source, tmp_path, progress=False)
    assert (tmp_path / "upstream" / "x" / "x.jsonl").read_bytes() == lines == (tmp_path / "upstream" / "y.jsonl").read_bytes()


def test_an_entry_outside_the_folder_is_refused(server, tmp_path):
    server.files["/evil.tar.gz"] = tarball({"data/../../../escape.py": "x = 1\n"})
    evil = Source("evil", server.url("/evil.tar.gz"), "tar.gz", (("data/", "swe-pdb/"),))
    with pytest.raises(DownloadError, match="outside its folder"):
        download_source(evil, tmp_path / "cache", progress=False)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_offline_and_unreachable_say_what_to_do(server, tmp_path, monkeypatch):
    source, _ = release(server)
    monkeypatch.setenv("GYM_PDB_OFFLINE", "1")
    with pytest.raises(DownloadError, match="GYM_PDB_OFFLINE is set"):
        download_source(source, tmp_path, progress=False)
    monkeypatch.delenv("GYM_PDB_OFFLINE")
    missing = Source("gone", server.url("/missing.tar.gz"), "tar.gz", (("data/", "swe-pdb/"),))
    with pytest.raises(DownloadError, match="could not download gone") as err:
        download_source(missing, tmp_path, progress=False)
    assert "GYM_PDB_DATA" in str(err.value)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_gym_make_downloads_missing_data_on_first_use(server, tmp_path, monkeypatch):
    source, _ = release(server)
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps([{**source.__dict__, "members": [list(m) for m in source.members]}]))
    monkeypatch.delenv("GYM_PDB_DATA", raising=False)
    monkeypatch.delenv("GYM_PDB_OFFLINE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("GYM_PDB_MANIFEST", str(manifest))
    env = gym.make("PDB-MiniNightmare-v0", include_broken=True)
    try:
        obs, info = env.reset(options={"task_id": "add"})
        assert info["task_id"] == "add" and "add_code.py" in obs
        assert env.unwrapped.tasks["add"].metadata["hint"] == "Plus, not minus."
        assert env.step("eval")[4]["tests_passed"] == 0
    finally:
        env.close()
    assert (tmp_path / "cache" / "gym-pdb" / "swe-pdb" / "mini_nightmare" / "add" / "test.py").is_file()
    assert server.requests == ["/release.tar.gz"]
    monkeypatch.setenv("GYM_PDB_OFFLINE", "1")
    gym.make("PDB-MiniNightmare-v0").close()  # now in the cache: no network needed


def test_download_command(server, tmp_path, monkeypatch, capsys):
    source, _ = release(server)
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps([{**source.__dict__, "members": [list(m) for m in source.members]}]))
    monkeypatch.setenv("GYM_PDB_MANIFEST", str(manifest))
    cache = tmp_path / "cache"
    assert main(["download", "--cache-dir", str(cache), "--quiet"]) == 0
    assert "swe-pdb: verified" in capsys.readouterr().out
    assert main(["download", "--cache-dir", str(cache), "--list"]) == 0
    assert "installed" in capsys.readouterr().out
    assert main(["download", "nosuch", "--cache-dir", str(cache)]) == 1
    assert "unknown source" in capsys.readouterr().err
    assert download(None, cache, progress=False) == []
