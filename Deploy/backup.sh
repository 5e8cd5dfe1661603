#!/usr/bin/env bash
# Backs up Delineate: the PostgreSQL database (pg_dump, custom format) and the file store.
#
#   Deploy/backup.sh [--database-url URL] [--file-store DIR] [--out DIR]
#
# Defaults: DELINEATE_DATABASE_URL, DELINEATE_FILE_STORE, and
# /var/backups/delineate/<UTC time>. The backup folder holds database.dump, files.tar, and
# SHA256SUMS, which restore.sh checks before it touches anything.
#
# Consistency: the database is dumped first, in one snapshot. The file store's files are never
# changed once written, and each is written (and fsynced) before the row that names it commits.
# So a copy of the store taken after the dump holds every file the dump refers to. The copy may
# also hold a few newer files, which nothing in the dump names. The daemon keeps running.
set -euo pipefail

url=${DELINEATE_DATABASE_URL:-}
store=${DELINEATE_FILE_STORE:-}
out=/var/backups/delineate/$(date -u +%Y%m%dT%H%M%SZ)
while [[ $# -gt 0 ]]; do
    case $1 in
        --database-url) url=$2; shift 2 ;;
        --file-store) store=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        *) echo "backup.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
done
[[ -n $url ]] || { echo "backup.sh: no database: --database-url or DELINEATE_DATABASE_URL" >&2; exit 2; }
[[ -d $store ]] || { echo "backup.sh: file store '$store' is not a folder (--file-store or DELINEATE_FILE_STORE)" >&2; exit 2; }
[[ ! -e $out/SHA256SUMS ]] || { echo "backup.sh: $out already holds a backup" >&2; exit 2; }

mkdir -p "$out"
umask 077
pg_dump --format=custom --no-owner --file "$out/database.dump" "$url"
tar -C "$store" --exclude=./tmp -cf "$out/files.tar" .
(cd "$out" && sha256sum database.dump files.tar > SHA256SUMS)
echo "backup written to $out ($(du -sh "$out" | cut -f1)): database.dump, files.tar, SHA256SUMS"
