#!/usr/bin/env bash
# What `npm test` needs from the machine besides node_modules, checked before any test runs
# (npm's pretest). On a fresh machine a missing tool used to show up as several confusing test
# failures (`spawn bsdtar ENOENT`) ten minutes in; now it is installed here the way .ci/run
# always did (root with apt-get), or the run stops at once with one message and one command.
#
#   RECOVER_TEST_INSTALL=auto (default) install what is missing when root with apt-get
#   RECOVER_TEST_INSTALL=never          only check; say what to run
#   RECOVER_PG_BIN                      server binaries (default /usr/lib/postgresql/15/bin)
set -uo pipefail

PG_BIN="${RECOVER_PG_BIN:-/usr/lib/postgresql/15/bin}"
MODE="${RECOVER_TEST_INSTALL:-auto}"
PACKAGES=()
PROBLEMS=()

need_package() { # package, why
  PACKAGES+=("$1")
  PROBLEMS+=("$2")
}

check_tools() {
  PACKAGES=()
  PROBLEMS=()
  for tool in initdb pg_ctl pg_basebackup pg_waldump pg_controldata pg_dump pg_restore; do
    if [ ! -x "$PG_BIN/$tool" ]; then
      need_package postgresql-15 "PostgreSQL 15 server binaries ($PG_BIN/$tool is missing)"
      break
    fi
  done
  command -v psql >/dev/null || need_package postgresql-client-15 "psql (PostgreSQL client)"
  command -v zstd >/dev/null || need_package zstd "zstd (base backup parts are compressed with it)"
  command -v lz4 >/dev/null || need_package lz4 "lz4 (LZ4 base backup parts)"
  command -v bsdtar >/dev/null || need_package libarchive-tools "bsdtar (restores extract parts with it; tests cover it and GNU tar)"
  command -v runuser >/dev/null || need_package util-linux "runuser (clusters run as the postgres OS user)"
  command -v pg_createcluster >/dev/null || need_package postgresql-common "pg_createcluster (the local control-database server)"
  # The web view test drives Debian's chromium with playwright-core (Playwright's own browser download does not work here).
  [ -x /usr/bin/chromium ] || need_package chromium "chromium at /usr/bin/chromium (the Slack stand-in's web view is tested in it)"
}

install_missing() {
  [ "${#PACKAGES[@]}" -eq 0 ] && return 0
  if [ "$MODE" = never ] || [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then return 1; fi
  echo "test-prereqs: installing ${PACKAGES[*]} (apt-get; RECOVER_TEST_INSTALL=never to only check)"
  apt-get update -q >/dev/null &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${PACKAGES[@]}" >/dev/null
}

fail() { # the one command to run, then what is missing (one line each)
  local fix="$1"
  shift
  {
    echo
    echo "npm test cannot run on this machine yet:"
    for line in "$@"; do echo "  - $line"; done
    echo "Fix it with one command, then run npm test again:"
    echo "  $fix"
    echo
  } >&2
  exit 1
}

check_tools
if [ "${#PACKAGES[@]}" -gt 0 ]; then
  install_missing
  check_tools
fi
if [ "${#PACKAGES[@]}" -gt 0 ]; then
  unique=$(printf '%s\n' "${PACKAGES[@]}" | sort -u | tr '\n' ' ')
  fail "apt-get update && apt-get install -y ${unique% }   (as root)" "${PROBLEMS[@]}"
fi

if ! id postgres >/dev/null 2>&1; then
  fail "apt-get install -y postgresql-15   (as root)" "there is no 'postgres' OS user (test clusters run as it; the postgresql-15 package creates it)"
fi

# The control-database tests use a server on 127.0.0.1:5432 with trust auth.
if ! "$PG_BIN/pg_isready" -h 127.0.0.1 -p 5432 -q; then
  if [ "$MODE" != never ] && [ "$(id -u)" -eq 0 ]; then
    echo "test-prereqs: starting the local PostgreSQL server on 127.0.0.1:5432 for the control-database tests"
    if ! pg_lsclusters -h | grep -q '^15 *main'; then
      pg_createcluster 15 main -- --auth=trust >/dev/null
    fi
    pg_ctlcluster --skip-systemctl-redirect 15 main start
    for _ in $(seq 1 30); do "$PG_BIN/pg_isready" -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
  fi
  if ! "$PG_BIN/pg_isready" -h 127.0.0.1 -p 5432 -q; then
    fail "no PostgreSQL server answers on 127.0.0.1:5432 (the control-database tests need one, trust auth)." \
      "Run (as root): pg_ctlcluster --skip-systemctl-redirect 15 main start   (or pg_createcluster 15 main -- --auth=trust first)"
  fi
fi
exit 0
