"""The shell scripts the backend runs inside a sandbox container, and parsers of what they print.

Each script is spelt once, here. They need a POSIX ``sh``, coreutils,
findutils and util-linux's ``setpriv`` in the image, and its layout (the
constants below). Nothing here talks to Docker: a backend that can start a
command with stdin and separate stdout and stderr streams (a Kubernetes exec,
say) can run them as they are.

How they report. Besides their own output, the scripts that run task code
write *report lines* on stderr: :data:`REPORT` then ``pid N``, ``rc C`` (sh's
exit status: 128+N for signal N) or ``rec BASE64`` (bytes of the record
channel, relayed by the warm interpreter). The control shell ends the reply
to each command with a done line that carries a fresh token and the exit
status (:func:`control_line`).
"""

from __future__ import annotations

import errno
import shlex
from collections.abc import Sequence

WORKDIR = "/workspace"
SUPPORT_DIR = "/opt/gym_pdb"
CLAIM_DIR = SUPPORT_DIR + "/.claim"  # exists while a sandbox holds a pool container
CLAIM_OWNER = CLAIM_DIR + "/owner"  # the owner token of that sandbox's process
WARM_FIFO = SUPPORT_DIR + "/.warm/requests"  # the warm interpreter's request FIFO (root only)
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
MAX_WARM_REQUEST = 3500  # a FIFO line is written at once only up to PIPE_BUF (4096 bytes)
CONTROL_WRITE_MAX = 16384  # bytes a file may have to be written through the control shell (it reads a byte at a time)

REPORT = b"\x1egym-pdb "
DONE = b"\x1egym-pdb-done "
FILE_MARK = b"\x1egym-pdb-file "

# Runs each command: its own session and process group (setsid), stdin passed
# on, stderr merged into stdout; pid and exit status reported on stderr; what
# is left of its process group killed once it exits (like the local sandbox).
WRAPPER = (
    "exec 3<&0\n"
    'setsid "$@" <&3 3<&- 2>&1 &\n'
    "p=$!\n"
    "exec 3<&-\n"
    "printf '\\036gym-pdb pid %s\\n' \"$p\" >&2\n"
    'wait "$p"\n'
    "rc=$?\n"
    'kill -9 "-$p" 2>/dev/null\n'
    "printf '\\036gym-pdb rc %s\\n' \"$rc\" >&2\n"
)

# A python run forked by the warm interpreter: the connector writes its pid and
# the request to the FIFO and waits; the zygote forks the program onto the
# connector's streams (saved as fds 5-7, which stay put while printf's output
# is redirected), reports as the wrapper does, then ends the connector.
CONNECTOR = f'exec 5<&0 6>&1 7>&2; printf "%s %s\\n" "$$" "$1" > {WARM_FIFO} && exec sleep 2147483647'
# Runs a short command to its end and reports its exit status on stderr.
COLLECT = '"$@"; printf "\\036gym-pdb rc %d\\n" $? >&2'

# Claiming a pool container: mkdir is atomic, so one claimant wins. Taking over
# the claim of a dead process ($1, for owner $2): compare-and-swap of the owner,
# under a mutex (another mkdir). Both exit 0 when the claim is theirs.
CLAIM = f'mkdir {CLAIM_DIR} 2>/dev/null && printf %s "$1" > {CLAIM_OWNER}'
STEAL = (
    f"mkdir {CLAIM_DIR}.steal 2>/dev/null || exit 1; "
    f'[ "$(cat {CLAIM_OWNER} 2>/dev/null)" = "$1" ] && rm -rf {CLAIM_DIR} && mkdir {CLAIM_DIR} && '
    f'printf %s "$2" > {CLAIM_OWNER}; rc=$?; rmdir {CLAIM_DIR}.steal; exit $rc'
)
# Prints the claim's owner token, nothing for an idle container.
CLAIM_OWNER_OR_NOTHING = f"cat {CLAIM_OWNER} 2>/dev/null || true"

# The persistent root control shell: one command per line, output and errors on stdout.
ADMIN_SHELL = 'exec 2>&1; while IFS= read -r line; do eval "$line"; done'

# Kills every non-root process of the container, whatever uid a previous claimant used.
KILL_ALL = (
    'for d in /proc/[0-9]*; do u=$(stat -c %u $d 2>/dev/null) && [ "$u" != 0 ] && kill -9 ${d#/proc/} 2>/dev/null; done'
)
EMPTY = f"find {WORKDIR} /tmp -mindepth 1 -delete 2>/dev/null"
# Leaves a pool container as a new claimant should find it: no process of task code, no files, no claim.
RELEASE = f"{KILL_ALL}; {EMPTY}; rm -rf {CLAIM_DIR} {CLAIM_DIR}.steal"

# Lists the workspace (type and path of each entry), then each regular file's
# sha256: NUL-separated, whatever the names hold; a RS NUL between the two parts.
DIGEST = (
    f"cd {WORKDIR} && find . -mindepth 1 -printf '%y %P\\0' && printf '\\036\\0' && "
    "find . -mindepth 1 -type f -exec sha256sum -z -- {} +"
)


def wrapped(argv: Sequence[str]) -> list[str]:
    """The exec argv that runs ``argv`` under :data:`WRAPPER`."""
    return ["sh", "-c", WRAPPER, "sh", *argv]


def connector(request: str) -> list[str]:
    """The exec argv of a connector for a warm-interpreter ``request`` (a JSON line)."""
    return ["sh", "-c", CONNECTOR, "sh", request]


def collected(argv: Sequence[str]) -> list[str]:
    """The exec argv that runs ``argv`` under :data:`COLLECT`."""
    return ["sh", "-c", COLLECT, "sh", *argv]


def claim(token: str) -> list[str]:
    """The argv that claims an idle pool container for owner ``token``."""
    return ["sh", "-c", CLAIM, "sh", token]


def steal(dead: str, token: str) -> list[str]:
    """The argv that takes over the claim of the dead owner ``dead`` for ``token``."""
    return ["sh", "-c", STEAL, "sh", dead, token]


def extract(dest: str, scrub_first: str = "") -> list[str]:
    """The argv that extracts a tar from stdin into ``dest``, after the command ``scrub_first`` if any.

    For folders the archive API cannot reach (a plain ``--tmpfs`` mount on Docker < 25).
    """
    script = f"{scrub_first}; " if scrub_first else ""
    return ["sh", "-c", f'{script}exec tar -x -p -f - -C "$1"', "sh", dest]


def extract_inline(dest: str, tar_gz_b64: str, scrub_first: str) -> str:
    """A control command that runs ``scrub_first``, then extracts the gzipped tar ``tar_gz_b64`` (base64) into ``dest``.

    For a small reset: a round trip on the control shell, where an upload
    through the archive API or an exec costs ~40-70 ms. The data is part of the
    line, so nothing of it is left for the shell to read whatever ``tar`` does.
    """
    return f"{scrub_first}; printf %s '{tar_gz_b64}' | base64 -d | tar -x -z -p -f - -C {shlex.quote(dest)}"


def control_line(command: str, token: str) -> bytes:
    """The line to send the control shell for ``command``; its reply ends with :func:`done_marker` and the status.

    Raises:
        ValueError: ``command`` spans lines (the shell reads one per line).
    """
    if "\n" in command:
        raise ValueError("control commands are one line")
    return f"{{ {command}; }} </dev/null; printf '\\036gym-pdb-done %s %d\\n' {token} $?\n".encode()


def done_marker(token: str) -> bytes:
    """What precedes the exit status at the end of the reply to :func:`control_line` with ``token``."""
    return DONE + token.encode() + b" "


def as_user(uid: int) -> str:
    """Prefix of a control command that runs it as ``uid`` (links the program planted get its rights, not root's)."""
    return f"setpriv --reuid={uid} --regid={uid} --clear-groups"


def scrub(uid: int, kill_all: bool = False) -> str:
    """Kill every process of ``uid`` (of every non-root uid with ``kill_all``); empty the workspace and /tmp."""
    kill = f"{as_user(uid)} sh -c 'kill -9 -1; kill -9 -1' 2>/dev/null"
    if kill_all:
        kill = f"{KILL_ALL}; {kill}"
    return f"{kill}; {EMPTY}; true"


def kill_group(pid: int) -> str:
    """Kill the process group ``pid`` leads, and ``pid`` itself should it have left it."""
    return f"kill -9 -{pid} {pid} 2>/dev/null"


def interrupt(pid: int) -> str:
    """Ask ``pid`` to dump its Python stack (SIGUSR1: the faulthandler of pdb's driver)."""
    return f"kill -USR1 {pid} 2>/dev/null"


def exit_code(rc: int) -> int:
    """sh reports death by signal N as 128+N; report it as -N, like :mod:`subprocess`."""
    return -(rc - 128) if 128 < rc < 128 + 65 else rc


def remove(paths: Sequence[str], uid: int | None = None) -> str:
    """Remove ``paths``: as root, folders with what they hold; as ``uid``, files only (with that uid's rights)."""
    prefix = f"{as_user(uid)} rm -f" if uid is not None else "rm -rf"
    return f"{prefix} -- {' '.join(shlex.quote(p) for p in paths)}"


def write_file(uid: int, data_b64: str, tmp: str, path: str) -> str:
    """Write base64 ``data_b64`` to ``path`` as ``uid``: into ``tmp``, renamed over ``path``; prints ``written``.

    The rename replaces a link the program planted instead of following it;
    the new file has mode 0644 (umask 022).
    """
    script = 'base64 -d > "$1" && mv -f "$1" "$2" || { rm -f "$1"; exit 1; }'
    return (
        f"printf %s '{data_b64}' | {as_user(uid)} sh -c {shlex.quote(script)} sh {shlex.quote(tmp)} {shlex.quote(path)}"
        " 2>/dev/null && echo written"
    )


def written(out: bytes) -> bool:
    """Whether :func:`write_file` wrote its file."""
    return out.strip().endswith(b"written")


def read_file(uid: int, path: str) -> str:
    """Print ``path`` as read by ``uid``: :data:`FILE_MARK`, the bytes, RS and cat's status in 3 digits.

    Or one code instead: 40 a link, 41 a folder, 42 no such file.
    """
    p = shlex.quote(path)
    return (
        f"if [ -L {p} ]; then echo 40; elif [ -d {p} ]; then echo 41; elif [ ! -f {p} ]; then echo 42; "
        f"else printf '\\036gym-pdb-file '; {as_user(uid)} cat -- {p} 2>/dev/null; "
        "printf '\\036%03d' $?; fi"
    )


def parse_read(out: bytes, rel: str) -> bytes:
    """The file's bytes from the output of :func:`read_file` for the workspace path ``rel``.

    Raises:
        PermissionError: the uid cannot read it.
        IsADirectoryError, FileNotFoundError, OSError (ELOOP for a link): not a regular file.
        ValueError: the output is none of these.
    """
    if out.startswith(FILE_MARK) and len(out) >= len(FILE_MARK) + 4 and out[-4:-3] == b"\x1e":
        if out[-3:] == b"000":
            return out[len(FILE_MARK) : -4]
        raise PermissionError(errno.EACCES, "The sandbox user cannot read this file", rel)
    code = out.strip()
    if code == b"41":
        raise IsADirectoryError(errno.EISDIR, "Is a directory", rel)
    if code == b"40":
        raise OSError(errno.ELOOP, "Not a regular file (a link)", rel)
    if code == b"42":
        raise FileNotFoundError(errno.ENOENT, "No such file in the workspace", rel)
    raise ValueError(out[-200:].decode(errors="replace"))


def parse_digest(out: bytes) -> dict[str, str]:
    """Path -> sha256 hex of each regular file, or ``dir``, ``link``, ``other``, from the output of :data:`DIGEST`."""
    listing, _, sums = out.partition(b"\x1e\0")
    kinds = {"d": "dir", "l": "link"}
    found: dict[str, str] = {}
    for item in filter(None, listing.split(b"\0")):
        kind, _, path = item.decode("utf-8", "surrogateescape").partition(" ")
        found[path] = kinds.get(kind, "other")
    for item in filter(None, sums.split(b"\0")):
        digest, _, path = item.decode("utf-8", "surrogateescape").partition("  ")
        path = path.removeprefix("./")
        if found.get(path) == "other":
            found[path] = digest
    return found
