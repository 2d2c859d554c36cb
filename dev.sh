#!/bin/sh
# Bootstrap a virtual environment in .venv and run raild or its tests.
#   ./dev.sh sim    run `raild serve --sim` (emulated pigpiod, virtual rail, simulated camera)
#   ./dev.sh test   install test tools and run every test
#   ./dev.sh lint   ruff check, ruff format --check and mypy (config in pyproject.toml)
# Needs only python3 (3.11 or newer). On Debian/Raspberry Pi OS without the venv
# module, it installs python3-venv when run as root and says what to run otherwise.
set -eu
cd "$(dirname "$0")"
VENV=${RAILD_VENV:-.venv}
PY=${PYTHON:-python3}

need_venv() {
    if "$PY" -c 'import ensurepip, venv' >/dev/null 2>&1; then return 0; fi
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "dev.sh: installing python3-venv" >&2
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >&2
    else
        echo "dev.sh: Python's venv module is missing; run: sudo apt-get install python3-venv" >&2
        exit 1
    fi
}

bootstrap() {
    extras=$1
    stamp="$VENV/.raild-installed-$extras"
    if [ -f "$stamp" ] && [ "$stamp" -nt pyproject.toml ]; then return 0; fi
    "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
        echo "dev.sh: raild needs Python 3.11 or newer; $("$PY" --version) found" >&2; exit 1; }
    need_venv
    # The first install takes a minute or two: say so, so a silent terminal is not a hang.
    if [ ! -x "$VENV/bin/python" ]; then
        echo "dev.sh: creating the virtual environment in $VENV" >&2
        "$PY" -m venv "$VENV"
    fi
    echo "dev.sh: installing raild and its $extras dependencies into $VENV (first run: a minute or two)" >&2
    "$VENV/bin/python" -m pip install -q --upgrade pip
    "$VENV/bin/python" -m pip install -q -e ".[$extras]"
    touch "$stamp"
    echo "dev.sh: installed" >&2
}

# System tools some tests drive for real: Debian's chromium (UI tests),
# systemd-analyze (unit files), shellcheck (install script), curl (API end to end).
system_tools() {
    missing=""
    command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
    command -v systemd-analyze >/dev/null 2>&1 || missing="$missing systemd"
    command -v shellcheck >/dev/null 2>&1 || missing="$missing shellcheck"
    command -v curl >/dev/null 2>&1 || missing="$missing curl"
    [ -z "$missing" ] && return 0
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "dev.sh: installing$missing" >&2
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >&2
    else
        echo "dev.sh: tests that need$missing will be skipped; install with: sudo apt-get install$missing" >&2
    fi
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
    sim)
        bootstrap dev
        exec "$VENV/bin/raild" serve --sim "$@"
        ;;
    test)
        bootstrap test,dev
        system_tools
        set +e
        "$VENV/bin/python" -m pytest "$@"
        rc=$?
        set -e
        # 5 = no tests collected: not a failure of the code under test.
        [ "$rc" = 5 ] && rc=0
        exit "$rc"
        ;;
    lint)
        bootstrap test,dev
        "$VENV/bin/ruff" check raild tests hw_tests bench
        "$VENV/bin/ruff" format --check raild tests hw_tests bench
        exec "$VENV/bin/mypy"
        ;;
    hw-test)
        bootstrap test,dev
        exec "$VENV/bin/python" -m pytest hw_tests "$@"
        ;;
    *)
        echo "usage: ./dev.sh sim|test|lint|hw-test [args]" >&2
        exit 2
        ;;
esac
