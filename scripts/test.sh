#!/usr/bin/env bash
# Runs collecte's whole test suite: every test on SQLite and on the real PostgreSQL, with Redis,
# xmllint (XSD checks) and the Python SMTP server the mail tests use.
#
# On a fresh Debian machine it installs and starts what is missing. With
# COLLECTE_REQUIRE_SERVICES=1 (CI) it installs tools but refuses to start servers itself:
# a missing PostgreSQL or Redis is then a failure, never a skip.
set -euo pipefail
cd "$(dirname "$0")/.."

say() { printf 'test.sh: %s\n' "$*" >&2; }
listening() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
apt_install() {
  say "installing $*"
  if [ -z "${APT_UPDATED:-}" ]; then apt-get update -qq >/dev/null; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

[ -d ../shared/sepa-samples ] || { say "../shared/sepa-samples is missing (the XSDs and bank samples)"; exit 1; }
command -v xmllint >/dev/null || apt_install libxml2-utils
command -v script >/dev/null || apt_install bsdutils  # a pseudo-terminal for the progress-bar test
python3 -c 'import aiosmtpd' 2>/dev/null || pip install -q aiosmtpd

if ! listening 5432; then
  [ "${COLLECTE_REQUIRE_SERVICES:-}" = 1 ] && { say "PostgreSQL is not listening on 127.0.0.1:5432"; exit 1; }
  command -v pg_ctlcluster >/dev/null || apt_install postgresql
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
  sed -i 's/^\(host.*127.0.0.1\/32\s*\)\S*$/\1trust/' /etc/postgresql/*/main/pg_hba.conf
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main reload
  su postgres -c "psql -qc 'CREATE DATABASE test'" 2>/dev/null || true
fi
if ! listening 6379; then
  [ "${COLLECTE_REQUIRE_SERVICES:-}" = 1 ] && { say "Redis is not listening on 127.0.0.1:6379"; exit 1; }
  command -v redis-server >/dev/null || apt_install redis-server
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
  sleep 1
fi
listening 5432 || { say "PostgreSQL did not start"; exit 1; }
listening 6379 || { say "Redis did not start"; exit 1; }

export COLLECTE_TEST_POSTGRES="${COLLECTE_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/test}"
export REDIS_URL_TEST="${REDIS_URL_TEST:-redis://127.0.0.1:6379}"
cargo test --all-targets --locked "$@"
