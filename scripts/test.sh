#!/usr/bin/env bash
# Lint and type-check, then run the whole suite on SQLite, and the tests that reach the
# database (tests/conftest.py picks them) again on a throwaway PostgreSQL server that this
# script starts (unix socket only) and stops.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

# Debian packages the tests drive, installed when missing (as root; one apt-get update).
updated=
need() {  # need COMMAND PACKAGE...
    command -v "$1" >/dev/null && return 0
    if [ "$(id -u)" != 0 ]; then
        echo "test: please install Debian's ${*:2} (needs root)" >&2
        exit 1
    fi
    [ -n "$updated" ] || { apt-get update -qq; updated=1; }
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${@:2}" >/dev/null
}
need chromium chromium          # the browser tests (Playwright's own download is offline here)
need spamassassin spamassassin  # scores what export and send make, with its offline rules
need npm nodejs npm             # axe-core and doiuse-email come from the npm registry

# axe-core, for the accessibility checks of the email and the archive's pages.
if [ ! -f build/axe/node_modules/axe-core/axe.min.js ]; then
    npm install --prefix build/axe axe-core@4 --no-audit --no-fund --silent
fi

# doiuse-email, caniemail.com's data, for what the email clients lack (tests/render).
if [ ! -f build/doiuse/node_modules/doiuse-email/bin/cli.js ]; then
    npm install --prefix build/doiuse doiuse-email@0.4 --no-audit --no-fund --silent
fi

$BIN/ruff check .
$BIN/ruff format --check .
$BIN/mypy
$BIN/lint-imports

# The email package's header folding differs between Python versions (CVE-2024-6923 was fixed
# in some): the header tests also run on the newest 3.12 and 3.13 this machine has.
for minor in 12 13; do
    python=$(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.$minor.*/bin/python3.$minor \
        /usr/bin/python3.$minor 2>/dev/null | sort -V | tail -n 1 || true)
    if [ -z "$python" ]; then
        echo "== no Python 3.$minor here: the header tests run on $($BIN/python --version) only"
        continue
    fi
    venv=build/py3.$minor
    if [ ! -f "$venv/.installed" ] || [ pyproject.toml -nt "$venv/.installed" ]; then
        rm -rf "$venv"
        "$python" -m venv "$venv"
        "$venv/bin/python" -m pip install --quiet --upgrade pip
        "$venv/bin/python" -m pip install --quiet -e . pytest hypothesis aiosmtpd mail-parser
        touch "$venv/.installed"
    fi
    echo "== mail headers on $("$venv/bin/python" --version)"
    "$venv/bin/pytest" -q -p no:cacheprovider tests/security/test_headers.py \
        tests/export/test_mime.py tests/export/test_personalise.py
done

echo "== tests on SQLite"
$BIN/pytest -q "$@"

echo "== tests on PostgreSQL"
. scripts/throwaway-postgres.sh
$BIN/pytest -q "$@"
