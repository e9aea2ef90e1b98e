"""Imports as processes: one killed halfway leaves nothing of its file, and two at once both
land whole (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from newsletter.config import load_config
from newsletter.pool import Pool

IMPORT = [sys.executable, "-m", "newsletter", "subscribers", "import"]


def write_list(path: Path, first: int, count: int) -> Path:
    rows = "".join(f"reader{n:07d}@example.org,Reader {n}\n" for n in range(first, first + count))
    path.write_text("email,name\n" + rows, "utf-8")
    return path


def on_the_list(workspace: Path) -> int:
    with Pool.open(load_config(workspace / "newsletter.toml").database_url) as pool:
        return sum(pool.subscriber_counts().values())


def test_an_import_killed_halfway_leaves_nothing_and_running_it_again_imports_it_all(
    workspace: Path,
) -> None:
    big = write_list(workspace / "big.csv", 0, 100_000)
    process = subprocess.Popen(
        [*IMPORT, str(big)],
        cwd=workspace,
        env=os.environ.copy(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    # Kill it halfway through reading the file: its transaction holds ten batches or so,
    # uncommitted (it began before the first row was read).
    deadline = time.monotonic() + 60
    while _read_so_far(process.pid, big) < 0.5 and time.monotonic() < deadline:
        time.sleep(0.02)
    assert process.poll() is None, "the import ended before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL
    assert on_the_list(workspace) == 0
    again = subprocess.run([*IMPORT, str(big)], cwd=workspace, capture_output=True, text=True)
    assert again.returncode == 0, again.stderr
    assert "100,000 added" in again.stdout
    assert on_the_list(workspace) == 100_000


def _read_so_far(pid: int, path: Path) -> float:
    """How far process `pid` has read the file at `path` (0 to 1), from Linux's /proc."""
    try:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            if fd.resolve() == path.resolve():
                info = Path(f"/proc/{pid}/fdinfo/{fd.name}").read_text()
                position = int(info.split("pos:")[1].split()[0])
                return position / path.stat().st_size
    except (FileNotFoundError, ProcessLookupError):
        pass  # not open yet, or the process is gone (the poll below says which)
    return 0.0


def test_two_imports_at_once_both_land_whole(workspace: Path) -> None:
    first = write_list(workspace / "first.csv", 0, 20_000)
    second = write_list(workspace / "second.csv", 10_000, 20_000)  # half of it the same
    on_the_list(workspace)  # the tables exist before the race
    processes = [
        subprocess.Popen(
            [*IMPORT, str(path)],
            cwd=workspace,
            env=os.environ.copy(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for path in (first, second)
    ]
    outputs = [process.communicate(timeout=120) for process in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    added = sorted(
        int(out.split(": ")[1].split(" added")[0].replace(",", "")) for out, _ in outputs
    )
    assert added == [10_000, 20_000]  # whichever came first added all of its file
    assert on_the_list(workspace) == 30_000
