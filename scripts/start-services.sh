#!/bin/sh
# Start the local PostgreSQL and Redis servers that the tests use, if they
# are not accepting connections on 127.0.0.1 already, and create the PostgreSQL
# database "test". Runs as root. PG_PORT and REDIS_PORT choose other ports
# (default 5432 and 6379); a Redis on another port is started with its own
# log file, so a test can start and stop one without touching the shared
# server.
set -eu

PG_PORT=${PG_PORT:-5432}
REDIS_PORT=${REDIS_PORT:-6379}

if ! command -v pg_ctlcluster >/dev/null || ! command -v redis-server >/dev/null; then
    echo "PostgreSQL or Redis is not installed; run: make system-packages" >&2
    exit 1
fi

if ! pg_isready -q -h 127.0.0.1 -p "$PG_PORT" 2>/dev/null; then
    # The first cluster listening on PG_PORT, as "version name".
    cluster=$(pg_lsclusters --no-header | awk -v port="$PG_PORT" '$3 == port { print $1, $2; exit }')
    if [ -z "$cluster" ]; then
        echo "No PostgreSQL cluster is configured for port $PG_PORT (see pg_lsclusters)." >&2
        exit 1
    fi
    echo "Starting PostgreSQL $cluster"
    # A cluster that is still starting up is not ready yet but refuses a
    # second start; the wait below covers both cases.
    # shellcheck disable=SC2086
    pg_ctlcluster --skip-systemctl-redirect $cluster start || true
    for _ in $(seq 1 30); do
        pg_isready -q -h 127.0.0.1 -p "$PG_PORT" && break
        sleep 1
    done
fi

pg_isready -h 127.0.0.1 -p "$PG_PORT"

# The tests connect as postgres without a password. That needs "trust" for
# 127.0.0.1 in pg_hba.conf, which this script leaves to the administrator.
if ! psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -tAc "SELECT 1" \
        >/dev/null 2>&1; then
    echo "Cannot connect to PostgreSQL on 127.0.0.1:$PG_PORT as postgres without" \
        "a password. The tests need this line in pg_hba.conf:" \
        "host all postgres 127.0.0.1/32 trust" >&2
    exit 1
fi

if ! psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = 'test'" | grep -q 1; then
    echo "Creating the PostgreSQL database test"
    createdb -h 127.0.0.1 -p "$PG_PORT" -U postgres test
fi

if ! redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1; then
    echo "Starting Redis on port $REDIS_PORT"
    mkdir -p /var/lib/redis /var/log/redis
    redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" \
        --appendonly no --dir /var/lib/redis \
        --logfile "/var/log/redis/ci-$REDIS_PORT.log"
    for _ in $(seq 1 30); do
        redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping >/dev/null 2>&1 && break
        sleep 1
    done
fi

redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping
