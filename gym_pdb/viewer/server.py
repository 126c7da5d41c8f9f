"""``gym-pdb view``'s HTTP server: the site of :mod:`gym_pdb.viewer.site`, made per request, on loopback.

Data is built when asked for, from the run folders as they are then, so a
page reloaded during a run shows the episodes finished since. The plots are
drawn on first request and again when the results change.
"""

from __future__ import annotations

import importlib.util
import tempfile
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from gym_pdb.evaluation.plots import PLOTS
from gym_pdb.viewer.data import Runs
from gym_pdb.viewer.site import asset, episode_script, index_script, write_plots

TYPES = {".html": "text/html", ".css": "text/css", ".js": "text/javascript", ".png": "image/png"}


class ViewerServer(ThreadingHTTPServer):
    """Serves the viewer of ``runs`` at ``http://host:port/`` (port 0: a free one, see ``url``)."""

    daemon_threads = True

    def __init__(self, runs: Runs, host: str = "127.0.0.1", port: int = 0):
        self.runs = runs
        self.lock = threading.Lock()  # the runs' rows, shared by the handler threads
        self.plot_lock = threading.Lock()  # drawing takes a second or two: the pages do not wait on it
        self._plots_dir = tempfile.TemporaryDirectory(prefix="gym-pdb-view-")
        self._plots_version = ""
        self.has_plots = importlib.util.find_spec("matplotlib") is not None
        super().__init__((host, port), Handler)
        if self.has_plots:  # drawn while the first page loads
            threading.Thread(target=self.plot, args=(PLOTS[0],), name="gym-pdb-view-plots", daemon=True).start()

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host.decode() if isinstance(host, bytes) else host}:{port}/"

    def server_close(self) -> None:
        super().server_close()
        self._plots_dir.cleanup()

    def index(self) -> bytes:
        with self.lock:
            self.runs.refresh()
            plots = [f"plots/{name}?v={self.runs.version}" for name in PLOTS] if self.has_plots else []
            return index_script(self.runs, plots).encode("ascii")

    def episode(self, key: str) -> bytes | None:
        with self.lock:
            self.runs.refresh()
            script = episode_script(self.runs, key)
        return script.encode("ascii") if script is not None else None

    def plot(self, name: str) -> bytes | None:
        if name not in PLOTS:
            return None
        with self.plot_lock:
            with self.lock:
                self.runs.refresh()
                version = self.runs.version
            if self._plots_version != version:
                write_plots(self.runs, self._plots_dir.name)
                self._plots_version = version
            path = Path(self._plots_dir.name) / name
            return path.read_bytes() if path.is_file() else None


class Handler(BaseHTTPRequestHandler):
    server: ViewerServer

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        path = unquote(urlsplit(self.path).path)
        body: bytes | None = None
        if path in ("/", "/index.html"):
            body, path = asset("index.html"), "/index.html"
        elif path.startswith("/assets/"):
            body = asset(path.removeprefix("/assets/"))
        elif path == "/data/index.js":
            body = self.server.index()
        elif path.startswith("/data/ep/") and path.endswith(".js"):
            body = self.server.episode(path.removeprefix("/data/ep/").removesuffix(".js"))
        elif path.startswith("/plots/"):
            body = self.server.plot(path.removeprefix("/plots/"))
        if body is None:
            self.send_error(HTTPStatus.NOT_FOUND, "not part of the viewer")
            return
        self.send_response(HTTPStatus.OK)
        kind = TYPES.get(Path(path).suffix, "application/octet-stream")
        self.send_header("Content-Type", kind + ("; charset=utf-8" if kind.startswith("text/") else ""))
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server's signature
        pass  # one line per request drowns the URL the user needs


def serve(runs: Runs, host: str = "127.0.0.1", port: int = 0) -> ViewerServer:
    """A started server (in a daemon thread); ``shutdown()`` and ``server_close()`` stop it."""
    server = ViewerServer(runs, host, port)
    threading.Thread(target=server.serve_forever, name="gym-pdb-view", daemon=True).start()
    return server
