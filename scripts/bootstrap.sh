#!/usr/bin/env bash
# Create .venv with the package (`bootstrap.sh runtime`: what running it needs, for `make demo`)
# or with its test tools too (`bootstrap.sh test`); install system packages when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

apt_install() {
    if [ "$(id -u)" != 0 ]; then
        echo "bootstrap: please install: $* (needs root)" >&2
        exit 1
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

PYTHON=${PYTHON:-python3}
if ! command -v "$PYTHON" >/dev/null; then
    apt_install python3 python3-venv
fi
"$PYTHON" - <<'PY' || { echo "bootstrap: Python 3.11 or newer is needed" >&2; exit 1; }
import sys
sys.exit(sys.version_info < (3, 11))
PY
if ! "$PYTHON" -c "import venv, ensurepip" 2>/dev/null; then
    apt_install python3-venv
fi

WHAT=${1:-test}
case "$WHAT" in
    runtime) PACKAGE=. ;;
    test) PACKAGE='.[test]' ;;
    *) echo "bootstrap: expected 'runtime' or 'test', got '$WHAT'" >&2; exit 1 ;;
esac
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
    .venv/bin/python -m pip install --quiet --upgrade pip
fi
.venv/bin/python -m pip install --quiet -e "$PACKAGE"
echo "bootstrap: .venv ready ($(.venv/bin/python --version))"
