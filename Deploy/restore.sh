#!/usr/bin/env bash
# Restores a backup made by backup.sh into a database and a file store.
#
#   Deploy/restore.sh [--database-url URL] [--file-store DIR] BACKUP_DIR
#
# Stop the daemon and the workers first. The checksums are verified before anything is changed.
# The database's Delineate tables are replaced (pg_restore --clean, in one transaction: a failed
# restore leaves the database as it was). The store's files are added back; files already there
# are the same bytes under the same name, because the store is content-addressed.
set -euo pipefail

url=${DELINEATE_DATABASE_URL:-}
store=${DELINEATE_FILE_STORE:-}
backup=
while [[ $# -gt 0 ]]; do
    case $1 in
        --database-url) url=$2; shift 2 ;;
        --file-store) store=$2; shift 2 ;;
        -*) echo "restore.sh: unknown argument '$1'" >&2; exit 2 ;;
        *) backup=$1; shift ;;
    esac
done
[[ -n $backup && -f $backup/SHA256SUMS ]] || { echo "restore.sh: give a backup folder holding SHA256SUMS" >&2; exit 2; }
[[ -n $url ]] || { echo "restore.sh: no database: --database-url or DELINEATE_DATABASE_URL" >&2; exit 2; }
[[ -n $store ]] || { echo "restore.sh: no file store: --file-store or DELINEATE_FILE_STORE" >&2; exit 2; }

(cd "$backup" && sha256sum --check --quiet SHA256SUMS) || { echo "restore.sh: $backup is damaged; nothing was changed" >&2; exit 1; }
pg_restore --clean --if-exists --no-owner --exit-on-error --single-transaction --dbname "$url" "$backup/database.dump"
mkdir -p "$store"
tar -C "$store" -xf "$backup/files.tar"
echo "restored $backup into the database and $store"
