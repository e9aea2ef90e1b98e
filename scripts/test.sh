#!/usr/bin/env bash
# Lint and type-check, then run the whole suite twice: on SQLite, and on a throwaway
# PostgreSQL server that this script starts (unix socket only) and stops.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

$BIN/ruff check .
$BIN/ruff format --check .
$BIN/mypy

echo "== tests on SQLite"
$BIN/pytest -q "$@"

echo "== tests on PostgreSQL"
. scripts/throwaway-postgres.sh
$BIN/pytest -q "$@"
