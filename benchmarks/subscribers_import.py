"""Measure `newsletter subscribers import` of a million-row CSV: time and peak memory of the
whole command, on SQLite (default) or the PostgreSQL of $NEWSLETTER_TEST_DATABASE_URL.

    .venv/bin/python benchmarks/subscribers_import.py                  # SQLite, 1,000,000 rows
    source scripts/throwaway-postgres.sh    # in bash: a throwaway PostgreSQL, then
    .venv/bin/python benchmarks/subscribers_import.py --postgres

The list has a name, a language and one attribute column, and every 100,000th row is
malformed (named with its line and skipped). Targets: under 60 s and under 500 MB.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 60
TARGET_MB = 500


def write_list(path: Path, rows: int) -> int:
    bad = 0
    with path.open("w", encoding="utf-8") as file:
        file.write("email,name,language,organisation\n")
        for n in range(rows):
            if n and n % 100_000 == 0:
                file.write(f"reader{n:07d}-at-example.org,Broken {n},en,\n")
                bad += 1
                continue
            language = ("en", "fr", "es")[n % 3]
            file.write(f"reader{n:07d}@example{n % 97}.org,Reader {n},{language},Coop {n % 500}\n")
    return bad


def database(postgres: bool) -> tuple[str, str | None]:
    """The database URL, and the PostgreSQL schema to drop afterwards."""
    if not postgres:
        return "", None
    server = os.environ.get("NEWSLETTER_TEST_DATABASE_URL")
    if not server:
        sys.exit("--postgres: source scripts/throwaway-postgres.sh first")
    from sqlalchemy import create_engine, make_url, text

    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with create_engine(server).begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    url = make_url(server).update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False), schema


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--postgres", action="store_true")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="newsletter-import-"))
    try:
        shutil.copy(REPO / "newsletter.toml", folder / "newsletter.toml")
        shutil.copytree(REPO / "examples", folder / "examples")
        listing = folder / "list.csv"
        bad = write_list(listing, args.rows)
        url, schema = database(args.postgres)
        env = {**os.environ, "NEWSLETTER_DATABASE_URL": url or f"sqlite:///{folder / 'pool.db'}"}
        command = [sys.executable, "-m", "newsletter", "subscribers", "import", str(listing)]
        # The pool's tables first (one run of `db upgrade`), so the import alone is timed.
        subprocess.run(
            [sys.executable, "-m", "newsletter", "db", "upgrade"],
            cwd=folder,
            env=env,
            check=True,
            capture_output=True,
        )
        started = time.perf_counter()
        done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - started
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        if done.returncode != 0:
            sys.exit(done.stderr)
        warned = done.stderr.count("invalid address")
        print(f"backend: {'PostgreSQL' if args.postgres else 'SQLite'}")
        print(f"rows: {args.rows:,} ({bad} malformed, {warned} named in warnings)")
        print(f"result: {done.stdout.strip()}")
        print(
            f"time: {seconds:.1f} s (target < {TARGET_SECONDS} s), "
            f"{args.rows / seconds:,.0f} rows/s"
        )
        print(f"peak memory: {peak_mb:.0f} MB (target < {TARGET_MB} MB)")
        if schema:
            from sqlalchemy import create_engine, text

            server = os.environ["NEWSLETTER_TEST_DATABASE_URL"]
            with create_engine(server).begin() as connection:
                connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
