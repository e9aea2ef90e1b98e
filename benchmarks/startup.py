"""Start-up of the commands an editor types most, against a bare interpreter in the same run.

    .venv/bin/python benchmarks/startup.py            # 20 rounds
    .venv/bin/python benchmarks/startup.py --rounds 50

Makes a scratch copy of the sample workspace, ingests the sample listings into a SQLite pool
there, byte-compiles the package (as an installed wheel is; this machine may set
PYTHONDONTWRITEBYTECODE), then runs in turn, round after round:

  bare     python -c pass
  help     newsletter --help
  items    newsletter items --month 2020-11   (the quick reader: no SQLAlchemy import)
  pool     the same through SQLAlchemy's Pool: a config naming a topic the pool lacks, which
           only the Pool can add (the pool file is copied back before each run, untimed)

Each is timed from the child's start to its exit; it prints the medians and, round by round
paired with the bare interpreter of the same round, the median ratio.
"""

from __future__ import annotations

import argparse
import compileall
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NEWSLETTER = str(Path(sys.executable).parent / "newsletter")


def timed(command: list[str], environment: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, env=environment, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=20)
    rounds = parser.parse_args().rounds
    compileall.compile_dir(ROOT / "newsletter", quiet=1)
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        shutil.copy(ROOT / "newsletter.toml", folder / "newsletter.toml")
        shutil.copytree(ROOT / "examples", folder / "examples")
        environment = {**os.environ, "NEWSLETTER_CONFIG": str(folder / "newsletter.toml")}
        environment.pop("NEWSLETTER_DATABASE_URL", None)
        subprocess.run([NEWSLETTER, "ingest", "--all"], env=environment, check=True,
                       capture_output=True)  # fmt: skip
        # A second workspace on the same pool whose config names one more topic: the quick
        # reader steps aside (the Pool must add the topic), so this times the Pool's path.
        other = folder / "other.toml"
        config = (folder / "newsletter.toml").read_text()
        own_pool = f'url = "sqlite:///{folder / "other.db"}"'
        other.write_text(config.replace('url = "sqlite:///newsletter.db"', own_pool) + _EXTRA_TOPIC)
        with_pool = {**environment, "NEWSLETTER_CONFIG": str(other)}
        commands = {
            "bare": ([sys.executable, "-c", "pass"], environment),
            "help": ([NEWSLETTER, "--help"], environment),
            "items": ([NEWSLETTER, "items", "--month", "2020-11"], environment),
            "pool": ([NEWSLETTER, "items", "--month", "2020-11"], with_pool),
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        for round_number in range(rounds + 1):  # round 0 warms the file cache
            for name, (command, env) in commands.items():
                if name == "pool":  # the topic is missing again, for the Pool to add
                    shutil.copy(folder / "newsletter.db", folder / "other.db")
                took = timed(command, env)
                if round_number:
                    times[name].append(took)
    bare = times["bare"]
    print(f"{rounds} rounds, Python {sys.version.split()[0]}")
    for name, values in times.items():
        ratio = statistics.median(value / base for value, base in zip(values, bare, strict=True))
        print(f"{name:6} median {statistics.median(values):.3f} s  "
              f"(min {min(values):.3f}, max {max(values):.3f})  {ratio:5.1f}x bare")  # fmt: skip


_EXTRA_TOPIC = '\n[topics.benchmark-extra]\nname = "Benchmark extra"\nkeywords = ["zzz"]\n'

if __name__ == "__main__":
    main()
