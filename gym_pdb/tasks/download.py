"""``gym-pdb download``: fetch the suites' upstream files into the user cache.

Each :class:`Source` is one file to fetch (an archive, a gzipped or a plain
file) and the files it lays out under the cache root (``~/.cache/gym-pdb``):
``swe-pdb/<suite>/...`` for the SWE-PDB release and ``upstream/...`` for the
originals the gold fixes come from (see :mod:`gym_pdb.tasks.upstream`).

A download is checked before anything reaches the cache: the SHA-256 of the
fetched bytes (``sha256``) and of the files it unpacks to (``tree_sha256``,
independent of how an archive was compressed), where pinned. Work happens in
a staging folder inside the cache, moved into place only once verified; a
failed download leaves nothing behind. A source pinned by neither checksum
is trusted on first use: its digests are recorded and a later download must
match them.

``GYM_PDB_OFFLINE=1`` forbids the network; ``GYM_PDB_MANIFEST`` names a JSON
list of sources to use instead of the built-in one (a mirror).
"""

from __future__ import annotations

import argparse
import fnmatch
import gzip
import hashlib
import json
import os
import posixpath
import shutil
import sys
import tarfile
import tempfile
import urllib.error
import urllib.request
import warnings
import zipfile
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from gym_pdb.tasks.data_dir import DataNotFoundError, user_cache_dir

if TYPE_CHECKING:
    from tqdm import tqdm

OFFLINE_ENV = "GYM_PDB_OFFLINE"
MANIFEST_ENV = "GYM_PDB_MANIFEST"
KINDS = ("tar.gz", "zip", "gz", "file")
SWE_PDB_FOLDERS = ("canitedit", "debugbench", "humaneval_buggy", "mbpp_buggy", "mini_nightmare", "syn-debug")
CHUNK = 1 << 16


class DownloadError(DataNotFoundError):
    """A download failed or did not verify; the message says why and what to do."""


@dataclass(frozen=True)
class Source:
    """One upstream file and what it lays out in the cache.

    members: ``(pattern, destination)`` pairs. For archives, ``pattern`` is a
        path inside the archive (its top folder stripped): a folder ending in
        ``/`` (its whole tree), a file, or a glob; ``destination`` is the
        folder (ending in ``/``) or file it goes to, relative to the cache
        root. For ``gz`` and ``file`` sources, one member ``("", destination)``.
    suites: the suite folders this source serves (``download_for_suite``).
    """

    name: str
    url: str
    kind: str
    members: tuple[tuple[str, str], ...]
    suites: tuple[str, ...] = ()
    sha256: str | None = None
    tree_sha256: str | None = None
    strip_components: int = 1
    description: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"source {self.name}: kind must be one of {KINDS}, not {self.kind!r}")

    @classmethod
    def from_dict(cls, data: dict) -> "Source":
        data = dict(data)
        data["members"] = tuple(tuple(m) for m in data.get("members", ()))
        data["suites"] = tuple(data.get("suites", ()))
        return cls(**data)


#: The upstream files at pinned versions. The tree digests are those of the
#: development copies in ../shared/data, which are these releases' files.
SOURCES: tuple[Source, ...] = (
    Source(
        name="swe-pdb",
        url="https://github.com/p81sunshine/Issta-2026/archive/8a491e3e.tar.gz",
        kind="tar.gz",
        members=(
            ("swe-pdb-agent/data/", "swe-pdb/"),
            ("swe-pdb-agent/LICENSE", "swe-pdb/LICENSE-swe-pdb-agent"),
            ("rl/data/rl_test.parquet", "swe-pdb/rl_test.parquet"),
        ),
        suites=SWE_PDB_FOLDERS,
        tree_sha256="806190457f6c77ebd9079b423e0ee24e0fc450cb1e2e855d89e496b00305103c",
        description="the SWE-PDB release: six suites and the RL validation tasks (MIT)",
    ),
    Source(
        name="swe-pdb-agent",
        url="https://github.com/p81sunshine/Issta-2026/archive/8a491e3e.tar.gz",
        kind="tar.gz",
        members=(
            ("swe-pdb-agent/debug_gym/", "swe-pdb-agent/debug_gym/"),
            ("swe-pdb-agent/scripts/", "swe-pdb-agent/scripts/"),
            ("swe-pdb-agent/LICENSE", "swe-pdb-agent/LICENSE"),
        ),
        tree_sha256="d8cdec59e9550fc7c02523b4d9428ceb3fd2ef98b67683b31c494c8ae030d7f8",
        description="SWE-PDB's agent framework (its debug-gym: tools, envs, run configs; MIT): "
        "the `swe-pdb` profile reads its texts",
    ),
    Source(
        name="debugbench",
        url="https://github.com/thunlp/DebugBench/archive/e43d2f65fb8ffed03e653c7861d9905cdfd8db8e.tar.gz",
        kind="tar.gz",
        members=(("benchmark/python3_*.json", "upstream/debugbench/"), ("LICENSE", "upstream/debugbench/LICENSE")),
        suites=("debugbench",),
        tree_sha256="92c9dfb10631024e95703facebf1e33f9b6abc05b851389424999660bf9a0c72",
        description="DebugBench's Python records: oracle code, bug types, levels (Apache-2.0)",
    ),
    Source(
        name="humanevalplus",
        url="https://github.com/evalplus/humanevalplus_release/releases/download/v0.1.10/HumanEvalPlus.jsonl.gz",
        kind="gz",
        members=(("", "upstream/evalplus/HumanEvalPlus.jsonl"),),
        suites=("humaneval_buggy",),
        description="EvalPlus HumanEval+ v0.1.10: the reference solutions (Apache-2.0)",
    ),
    Source(
        name="mbppplus",
        url="https://github.com/evalplus/mbppplus_release/releases/download/v0.2.0/MbppPlus.jsonl.gz",
        kind="gz",
        members=(("", "upstream/evalplus/MbppPlus.jsonl"),),
        suites=("mbpp_buggy",),
        description="EvalPlus MBPP+ v0.2.0: the reference solutions (Apache-2.0)",
    ),
    Source(
        name="humanevalpack",
        url="https://huggingface.co/datasets/bigcode/humanevalpack/resolve/main/data/python/data/humanevalpack.jsonl",
        kind="file",
        members=(("", "upstream/humanevalpack/humanevalpack_python.jsonl"),),
        suites=("humanevalfix",),
        tree_sha256="67f631b54d5f116cf8fd66f6e8e15e05d6411a268dfcd367d225e7a66a424a8b",
        description="bigcode HumanEvalPack (Python): HumanEvalFix (MIT)",
    ),
)


def manifest() -> tuple[Source, ...]:
    """The sources: ``GYM_PDB_MANIFEST`` (a JSON list of sources) when set, else the built-in ones."""
    path = os.environ.get(MANIFEST_ENV)
    if not path:
        return SOURCES
    try:
        return tuple(Source.from_dict(d) for d in json.loads(Path(path).read_text()))
    except (OSError, ValueError, TypeError) as exc:
        raise DownloadError(f"{MANIFEST_ENV}={path}: not a readable JSON list of sources ({exc})") from exc


def tree_digest(root: Path) -> str:
    """SHA-256 over the relative paths and contents of every file under ``root``."""
    digest = hashlib.sha256()
    files = {p.relative_to(root).as_posix(): p for p in root.rglob("*") if p.is_file()}
    for rel in sorted(files):
        digest.update(rel.encode() + b"\0")
        digest.update(hashlib.sha256(files[rel].read_bytes()).digest())
    return digest.hexdigest()


# -- fetching ----------------------------------------------------------------------
def _fetch(source: Source, dest: Path, progress: bool) -> str:
    """Stream ``source.url`` to ``dest``; return the SHA-256 of the bytes."""
    if os.environ.get(OFFLINE_ENV, "").strip() not in ("", "0"):
        raise DownloadError(
            f"{OFFLINE_ENV} is set, so {source.name} is not downloaded from {source.url}. Unset it (with "
            "network), or put the data in place yourself and point GYM_PDB_DATA at it."
        )
    digest = hashlib.sha256()
    request = urllib.request.Request(source.url, headers={"User-Agent": "gym-pdb"})
    try:
        with urllib.request.urlopen(request, timeout=60) as response, open(dest, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0) or None
            bar = _bar(total, f"{source.name}", progress)
            while chunk := response.read(CHUNK):
                out.write(chunk)
                digest.update(chunk)
                if bar is not None:
                    bar.update(len(chunk))
            if bar is not None:
                bar.close()
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise DownloadError(
            f"could not download {source.name} from {source.url}: {reason}.\n"
            "Without network: copy the suites' data from a machine that has it (`gym-pdb download` there, then "
            f"{user_cache_dir()}) and set GYM_PDB_DATA, or set {MANIFEST_ENV} to a manifest naming a mirror."
        ) from exc
    return digest.hexdigest()


def _bar(total: int | None, name: str, wanted: bool) -> tqdm[NoReturn] | None:
    if not wanted:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="B", unit_scale=True, desc=f"downloading {name}", file=sys.stderr)


# -- unpacking -----------------------------------------------------------------------
def _safe_join(root: Path, rel: str) -> Path:
    norm = posixpath.normpath(rel)
    if rel.startswith("/") or norm == ".." or norm.startswith("../"):
        raise DownloadError(f"refusing an archive entry outside its folder: {rel!r}")
    return root / norm


def _destination(members: Sequence[tuple[str, str]], name: str) -> str | None:
    """Where an archive entry goes (relative to the cache root), or None when no member wants it."""
    for pattern, dest in members:
        if pattern.endswith("/"):
            if name.startswith(pattern):
                return dest + name[len(pattern) :]
        elif name == pattern:
            return dest if not dest.endswith("/") else dest + posixpath.basename(name)
        elif any(c in pattern for c in "*?[") and fnmatch.fnmatchcase(name, pattern):
            return dest + posixpath.basename(name) if dest.endswith("/") else dest
    return None


def _strip(name: str, components: int) -> str | None:
    parts = name.split("/")
    return "/".join(parts[components:]) if len(parts) > components else None


def _unpack(source: Source, archive: Path, staging: Path) -> int:
    """Lay the wanted files of ``archive`` into ``staging``; return how many."""
    count = 0

    def put(rel: str, data: bytes) -> None:
        nonlocal count
        target = _safe_join(staging, rel)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        count += 1

    try:
        if source.kind in ("gz", "file"):
            data = archive.read_bytes()
            put(source.members[0][1], gzip.decompress(data) if source.kind == "gz" else data)
        elif source.kind == "tar.gz":
            with tarfile.open(archive, "r:gz") as tar:
                for member in tar:
                    name = _strip(member.name, source.strip_components)
                    if not name or not member.isfile():
                        continue  # folders are made as needed; links and devices are never laid out
                    dest = _destination(source.members, name)
                    reader = tar.extractfile(member)  # None only for what is not a file
                    if dest is not None and reader is not None:
                        put(dest, reader.read())
        else:
            with zipfile.ZipFile(archive) as zf:
                for info in zf.infolist():
                    name = _strip(info.filename, source.strip_components)
                    if not name or info.is_dir():
                        continue
                    dest = _destination(source.members, name)
                    if dest is not None:
                        put(dest, zf.read(info))
    except (tarfile.TarError, zipfile.BadZipFile, gzip.BadGzipFile, EOFError, OSError, zlib.error) as exc:
        raise DownloadError(f"{source.name}: the downloaded file is not a valid {source.kind} ({exc})") from exc
    if count == 0:
        raise DownloadError(f"{source.name}: the download holds none of the expected files {list(source.members)}")
    return count


# -- the cache ---------------------------------------------------------------------------
def _record_path(root: Path, source: Source) -> Path:
    return root / ".sources" / f"{source.name}.json"


def installed(source: Source, root: Path | None = None) -> bool:
    return _record_path(root or user_cache_dir(), source).is_file()


def download_source(source: Source, root: Path | None = None, force: bool = False, progress: bool = True) -> Path:
    """Fetch, verify and lay out one source under ``root`` (the user cache); return its record."""
    root = Path(root or user_cache_dir())
    record = _record_path(root, source)
    if record.is_file() and not force:
        return record
    previous = json.loads(record.read_text()) if record.is_file() else {}
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".staging-{source.name}-", dir=root))
    try:
        fetched = staging / "download"
        sha = _fetch(source, fetched, progress)
        pinned = bool(source.sha256 or source.tree_sha256)
        expected_sha = source.sha256 if pinned else previous.get("sha256")
        expected_tree = source.tree_sha256 if pinned else previous.get("tree_sha256")
        if expected_sha and sha != expected_sha:
            raise DownloadError(
                f"{source.name}: checksum mismatch for {source.url}: expected sha256 {expected_sha}, got {sha}. "
                "The file is corrupt or was changed upstream; nothing was written to the cache."
            )
        tree = staging / "tree"
        tree.mkdir()
        _unpack(source, fetched, tree)
        digest = tree_digest(tree)
        if expected_tree and digest != expected_tree:
            raise DownloadError(
                f"{source.name}: the files of {source.url} do not match the pinned checksum (tree sha256 "
                f"expected {expected_tree}, got {digest}); nothing was written to the cache."
            )
        if not pinned and not previous:
            warnings.warn(
                f"gym_pdb: {source.name} has no pinned checksum; recorded sha256 {sha} for later downloads",
                stacklevel=2,
            )
        for path in sorted(p for p in tree.rglob("*") if p.is_file()):
            target = root / path.relative_to(tree)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(path, target)
        record.parent.mkdir(parents=True, exist_ok=True)
        record.write_text(json.dumps({**asdict(source), "sha256": sha, "tree_sha256": digest}, indent=1) + "\n")
        return record
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def download(
    names: Iterable[str] | None = None, root: Path | None = None, force: bool = False, progress: bool = True
) -> list[Source]:
    """Download the named sources (all by default) that are not in the cache yet; return those fetched."""
    sources = manifest()
    by_name = {s.name: s for s in sources}
    names = list(names) if names else list(by_name)
    unknown = [n for n in names if n not in by_name]
    if unknown:
        raise ValueError(f"unknown source(s) {', '.join(unknown)}; known: {', '.join(by_name)}")
    fetched = []
    for name in names:
        source = by_name[name]
        if force or not installed(source, root):
            download_source(source, root, force=force, progress=progress)
            fetched.append(source)
    return fetched


def download_for_suite(folder: str, root: Path | None = None, progress: bool = True) -> list[Source]:
    """Download what a suite folder needs (its tasks and its upstream originals), on first use."""
    names = [s.name for s in manifest() if folder in s.suites]
    if not names:
        raise DataNotFoundError(f"no download source serves the suite folder {folder!r}")
    return download(names, root, progress=progress)


# -- command line -------------------------------------------------------------------------
def cmd_download(args: argparse.Namespace) -> int:
    root = Path(args.cache_dir) if args.cache_dir else user_cache_dir()
    if args.list:
        for source in manifest():
            state = "installed" if installed(source, root) else "missing"
            print(f"{source.name:15s} {state:9s} {source.description}\n{'':25s} {source.url}")
        return 0
    try:
        fetched = download(args.sources or None, root, force=args.force, progress=not args.quiet)
    except (DownloadError, ValueError) as exc:
        print(f"gym-pdb download: {exc}", file=sys.stderr)
        return 1
    for source in fetched:
        print(f"{source.name}: verified and unpacked into {root}")
    if not fetched:
        print(f"everything is already in {root} (--force downloads again)")
    return 0


def add_commands(sub: argparse._SubParsersAction) -> None:
    """Add ``gym-pdb download`` to the CLI's subcommands."""
    p = sub.add_parser("download", help="fetch the suites' data into the user cache, verifying checksums")
    p.add_argument("sources", nargs="*", metavar="SOURCE", help="sources to fetch (default: all; see --list)")
    p.add_argument("--list", action="store_true", help="list the sources and whether each is in the cache")
    p.add_argument("--force", action="store_true", help="download again even if present")
    p.add_argument("--cache-dir", default=None, help="where to unpack (default: the user cache)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_download)


__all__ = ["DownloadError", "SOURCES", "Source", "download", "download_for_suite", "manifest", "tree_digest"]
