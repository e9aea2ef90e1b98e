#!/usr/bin/env bash
# Lint and type-check, then run the whole suite twice: on SQLite, and on a throwaway
# PostgreSQL server that this script starts (unix socket only) and stops.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

# The browser tests drive Debian's Chromium (Playwright's own download does not work offline).
if ! command -v chromium >/dev/null; then
    if [ "$(id -u)" != 0 ]; then
        echo "test: please install Debian's chromium package (needs root)" >&2
        exit 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

# axe-core, from the npm registry, for the accessibility checks of the archive's pages.
if [ ! -f build/axe/node_modules/axe-core/axe.min.js ]; then
    if ! command -v npm >/dev/null; then
        if [ "$(id -u)" != 0 ]; then
            echo "test: please install Node.js and npm (needs root)" >&2
            exit 1
        fi
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
    fi
    npm install --prefix build/axe axe-core@4 --no-audit --no-fund --silent
fi

$BIN/ruff check .
$BIN/ruff format --check .
$BIN/mypy

echo "== tests on SQLite"
$BIN/pytest -q "$@"

echo "== tests on PostgreSQL"
. scripts/throwaway-postgres.sh
$BIN/pytest -q "$@"
