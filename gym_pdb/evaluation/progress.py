"""A live progress line: episodes done, success rate so far, speed and time left."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

WIDTH = 24


class Progress:
    """Redraws one line on a terminal; elsewhere (logs, CI) prints a line per episode."""

    def __init__(self, total: int, out: TextIO | None = None, enabled: bool = True, label: str = ""):
        self.total = total
        self.out = out or sys.stderr
        self.enabled = enabled
        self.label = label
        self.tty = hasattr(self.out, "isatty") and self.out.isatty()
        self.done = self.resolved = self.errors = 0
        self.start = time.monotonic()
        if enabled and self.tty:
            self._draw()

    def update(self, row: dict[str, Any]) -> None:
        self.done += 1
        if row.get("error"):
            self.errors += 1
        elif row.get("resolved"):
            self.resolved += 1
        if not self.enabled:
            return
        if self.tty:
            self._draw()
        else:
            status = "error" if row.get("error") else ("resolved" if row.get("resolved") else "unresolved")
            print(
                f"[{self.done}/{self.total}] {row.get('env_id')} {row.get('task_id')}: {status}, "
                f"{row.get('steps', 0)} steps, {row.get('wall_time', 0):.1f}s  |  {self._rate()}",
                file=self.out,
                flush=True,
            )

    def close(self) -> None:
        if self.enabled and self.tty:
            self._draw()
            print(file=self.out, flush=True)

    def _rate(self) -> str:
        ran = self.done - self.errors
        rate = f"{100 * self.resolved / ran:.1f}%" if ran else "-"
        text = f"resolved {self.resolved}/{ran} ({rate})"
        return text + (f", {self.errors} errors" if self.errors else "")

    def _draw(self) -> None:
        elapsed = time.monotonic() - self.start
        fill = int(WIDTH * self.done / self.total) if self.total else WIDTH
        speed = self.done / elapsed if elapsed > 0 else 0.0
        left = (self.total - self.done) / speed if speed else 0.0
        eta = f"{int(left // 60)}:{int(left % 60):02d}" if self.done else "-:--"
        line = (
            f"\r{self.label}[{'#' * fill}{'.' * (WIDTH - fill)}] {self.done}/{self.total}  {self._rate()}"
            f"  {speed:.2f} ep/s  ETA {eta} "
        )
        print(line, end="", file=self.out, flush=True)
