"""Processes that open a new pool at the same moment (three sends started together, as a
cron job and an editor may) each find its topics missing: they must queue, not collide."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from newsletter.pool import Pool

OPEN_POOL = """
import sys, time
from newsletter.pool import Pool
topics = {f"topic-{n}": f"Topic {n}" for n in range(40)}
time.sleep(max(0.0, float(sys.argv[2]) - time.time()))  # imports done: all start together
with Pool.open(sys.argv[1], topics) as pool:
    assert len(pool.topic_ids) == 40
"""


def test_processes_opening_a_new_pool_at_once_all_succeed(
    database_url: str, tmp_path: Path
) -> None:
    for round_number in range(3):
        url = database_url.replace("pool.db", f"pool{round_number}.db")
        with Pool.open(url, {}):
            pass  # migrated, and no topic yet: every process below goes to add them at once
        start = str(time.time() + 3)
        processes = [
            subprocess.Popen(
                [sys.executable, "-c", OPEN_POOL, url, start],
                stderr=subprocess.PIPE,
                cwd=tmp_path,
                env={**os.environ},
            )
            for _ in range(6)
        ]
        errors = [p.communicate(timeout=120)[1].decode() for p in processes]
        assert [p.returncode for p in processes] == [0] * 6, errors
