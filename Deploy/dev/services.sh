#!/usr/bin/env bash
# Starts or stops the development services: a private PostgreSQL 15 cluster in data/dev/postgres
# and an Orthanc PACS with DICOMweb in data/dev/orthanc, both on loopback only.
#   services.sh start   start both (initdb on first use), wait until they answer, write data/dev/env.sh
#   services.sh stop    stop both
#   services.sh status  print whether each answers
# Ports can be changed with DELINEATE_PG_PORT, DELINEATE_ORTHANC_HTTP_PORT, DELINEATE_ORTHANC_DICOM_PORT.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
data="$root/data/dev"
pg_port=${DELINEATE_PG_PORT:-55432}
orthanc_http=${DELINEATE_ORTHANC_HTTP_PORT:-58042}
orthanc_dicom=${DELINEATE_ORTHANC_DICOM_PORT:-54242}
scp_port=${DELINEATE_DICOM_PORT:-11112}
pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
mkdir -p "$data"

# PostgreSQL refuses to run as root: the cluster belongs to the 'postgres' system user.
# If that user cannot reach the checkout (a checkout under /root, say), the cluster lives
# under /var/lib/delineate-dev and data/dev/postgres links to it.
pg_data() {
    local target="$data/postgres"
    if [[ -L $target || -d $target ]]; then
        echo "$target"
        return
    fi
    if runuser -u postgres -- test -w "$data" 2>/dev/null || { chown postgres "$data" 2>/dev/null && runuser -u postgres -- test -w "$data"; }; then
        echo "$target"
    else
        local fallback="/var/lib/delineate-dev/$(echo -n "$root" | sha256sum | cut -c1-12)/postgres"
        mkdir -p "$(dirname "$fallback")" && chown postgres "$(dirname "$fallback")"
        ln -sfn "$fallback" "$target"
        echo "$target"
    fi
}

as_postgres() { runuser -u postgres -- "$@"; }

start_postgres() {
    local dir
    dir=$(pg_data)
    if [[ ! -f $dir/PG_VERSION ]]; then
        as_postgres mkdir -p "$(readlink -f "$dir")"
        as_postgres "$pg_bin/initdb" -D "$dir" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    fi
    if ! as_postgres "$pg_bin/pg_ctl" -D "$dir" status >/dev/null 2>&1; then
        as_postgres "$pg_bin/pg_ctl" -D "$dir" -w -t 60 -l "$dir/../postgres.log" \
            -o "-c listen_addresses=127.0.0.1 -p $pg_port -k /tmp -c fsync=on -c max_connections=200" start >/dev/null
    fi
    for _ in $(seq 60); do
        "$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$pg_port" && break
        sleep 0.5
    done
    "$pg_bin/pg_isready" -q -h 127.0.0.1 -p "$pg_port" || { echo "PostgreSQL did not start; see $data/postgres.log" >&2; exit 1; }
    psql -q -h 127.0.0.1 -p "$pg_port" -U postgres -tAc "SELECT 1 FROM pg_roles WHERE rolname='delineate'" | grep -q 1 ||
        psql -q -h 127.0.0.1 -p "$pg_port" -U postgres -c "CREATE ROLE delineate LOGIN CREATEDB" >/dev/null
    psql -q -h 127.0.0.1 -p "$pg_port" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='delineate'" | grep -q 1 ||
        psql -q -h 127.0.0.1 -p "$pg_port" -U postgres -c "CREATE DATABASE delineate OWNER delineate" >/dev/null
}

stop_postgres() {
    local dir="$data/postgres"
    [[ -f $dir/PG_VERSION ]] && as_postgres "$pg_bin/pg_ctl" -D "$dir" -m fast stop >/dev/null 2>&1 || true
}

start_orthanc() {
    local dir="$data/orthanc"
    mkdir -p "$dir/storage"
    cat >"$dir/orthanc.json" <<JSON
{
  "Name": "Delineate development PACS",
  "StorageDirectory": "$dir/storage",
  "IndexDirectory": "$dir/storage",
  "HttpPort": $orthanc_http,
  "RemoteAccessAllowed": false,
  "AuthenticationEnabled": false,
  "DicomAet": "ORTHANC",
  "DicomPort": $orthanc_dicom,
  "DicomCheckCalledAet": true,
  "DicomAlwaysAllowEcho": true,
  "DicomAlwaysAllowStore": true,
  "UnknownSopClassAccepted": false,
  "DicomModalities": { "DELINEATE": [ "DELINEATE", "127.0.0.1", $scp_port ] },
  "Plugins": [ "/usr/share/orthanc/plugins/libOrthancDicomWeb.so" ],
  "DicomWeb": { "Enable": true, "Root": "/dicom-web/", "EnableWado": true }
}
JSON
    if ! curl -sf "http://127.0.0.1:$orthanc_http/system" >/dev/null; then
        setsid /usr/sbin/Orthanc "$dir/orthanc.json" >"$dir/orthanc.log" 2>&1 </dev/null &
        echo $! >"$dir/orthanc.pid"
    fi
    for _ in $(seq 60); do
        curl -sf "http://127.0.0.1:$orthanc_http/system" >/dev/null && return
        sleep 0.5
    done
    echo "Orthanc did not start; see $dir/orthanc.log" >&2
    exit 1
}

stop_orthanc() {
    local pidfile="$data/orthanc/orthanc.pid"
    if [[ -f $pidfile ]]; then
        kill "$(cat "$pidfile")" 2>/dev/null || true
        for _ in $(seq 40); do kill -0 "$(cat "$pidfile")" 2>/dev/null || break; sleep 0.25; done
        rm -f "$pidfile"
    fi
}

write_env() {
    cat >"$data/env.sh" <<ENV
export DELINEATE_DATABASE_URL="postgresql://delineate@127.0.0.1:$pg_port/delineate"
export DELINEATE_ADMIN_DATABASE_URL="postgresql://postgres@127.0.0.1:$pg_port/postgres"
export DELINEATE_ORTHANC_URL="http://127.0.0.1:$orthanc_http"
export DELINEATE_ORTHANC_AE="ORTHANC"
export DELINEATE_ORTHANC_HOST="127.0.0.1"
export DELINEATE_ORTHANC_DICOM_PORT="$orthanc_dicom"
export DELINEATE_DICOM_PORT="$scp_port"
export DELINEATE_DATA="$root/data"
export DELINEATE_PYTHON="$data/pyenv/bin/python"
ENV
}

case "${1:-}" in
    start)
        start_postgres
        start_orthanc
        write_env
        echo "PostgreSQL on 127.0.0.1:$pg_port, Orthanc HTTP on 127.0.0.1:$orthanc_http, DICOM on $orthanc_dicom"
        echo "environment: source $data/env.sh"
        ;;
    stop)
        stop_orthanc
        stop_postgres
        ;;
    status)
        "$pg_bin/pg_isready" -h 127.0.0.1 -p "$pg_port" || true
        curl -sf "http://127.0.0.1:$orthanc_http/system" >/dev/null && echo "Orthanc: up" || echo "Orthanc: down"
        ;;
    *)
        echo "usage: $0 start|stop|status" >&2
        exit 2
        ;;
esac
