#!/usr/bin/env bash
# Make sure PostgreSQL and Redis run on this machine (install them from Debian's packages when missing,
# start them when down), and that the database in DATABASE_URL exists. Used by `make test` and .ci/run.
set -euo pipefail

PGHOST=127.0.0.1
PGUSER=${PGUSER:-postgres}
DB_NAME=${DB_NAME:-bureau}

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_updated=0
apt_install() {
  if [ $apt_updated = 0 ]; then as_root apt-get update -qq; apt_updated=1; fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# --- PostgreSQL ---------------------------------------------------------------------------------
if ! command -v pg_ctlcluster >/dev/null 2>&1; then
  echo "installing PostgreSQL"
  apt_install postgresql
fi
if ! pg_isready -q -h "$PGHOST"; then
  echo "starting PostgreSQL"
  for version in $(ls /etc/postgresql); do
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  done
  for _ in $(seq 1 30); do pg_isready -q -h "$PGHOST" && break; sleep 1; done
fi
pg_isready -h "$PGHOST"
if ! psql -h "$PGHOST" -U "$PGUSER" -d postgres -Atqc "SELECT 1" >/dev/null 2>&1; then
  # A fresh Debian cluster authenticates by peer: let local TCP connections in as trusted.
  hba=$(ls /etc/postgresql/*/main/pg_hba.conf | head -n 1)
  as_root sed -i 's/^\(host\s\+all\s\+all\s\+127.0.0.1\/32\s\+\)\S\+/\1trust/' "$hba"
  as_root sed -i 's/^\(host\s\+all\s\+all\s\+::1\/128\s\+\)\S\+/\1trust/' "$hba"
  as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main reload
fi
if ! psql -h "$PGHOST" -U "$PGUSER" -d postgres -Atqc "SELECT 1 FROM pg_database WHERE datname='$DB_NAME'" | grep -q 1; then
  psql -h "$PGHOST" -U "$PGUSER" -d postgres -qc "CREATE DATABASE $DB_NAME"
fi

# --- Redis --------------------------------------------------------------------------------------
if ! command -v redis-server >/dev/null 2>&1; then
  echo "installing Redis"
  apt_install redis-server
fi
if ! redis-cli -h 127.0.0.1 ping >/dev/null 2>&1; then
  echo "starting Redis"
  as_root mkdir -p /var/lib/redis /var/log/redis
  as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  for _ in $(seq 1 30); do redis-cli -h 127.0.0.1 ping >/dev/null 2>&1 && break; sleep 1; done
fi
redis-cli -h 127.0.0.1 ping
