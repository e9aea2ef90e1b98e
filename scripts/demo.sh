#!/usr/bin/env bash
# The main job on the sample data: ingest both ILO listings, then look at the pool.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.venv/bin:$PATH"

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

rm -f newsletter.db newsletter.db-wal newsletter.db-shm   # start the demo from an empty pool
step newsletter db upgrade
step newsletter ingest --all
step newsletter ingest --all            # again: nothing new, nothing duplicated
step newsletter topics
step newsletter items --month 2020-11 --topic cooperatives
step newsletter items --month 2020-10 --topic cooperatives
# The sample drafts are committed; --force writes them afresh from the pool.
step newsletter draft ilo-coop-enews --month 2020-10 --force
step newsletter draft ilo-coop-enews --month 2020-11 --force
step newsletter draft refresh ilo-coop-enews/2020-11
step newsletter validate ilo-coop-enews/2020-11
step newsletter issues
step newsletter render ilo-coop-enews/2020-10
step newsletter render ilo-coop-enews/2020-11
step newsletter check ilo-coop-enews/2020-11
step newsletter export ilo-coop-enews/2020-11 --format eml
step newsletter export ilo-coop-enews/2020-11 --format bundle
printf '\nOpen build/ilo-coop-enews/2020-11/email.html in a browser, or run\n'
printf '  .venv/bin/newsletter preview ilo-coop-enews/2020-11\n'
