#!/usr/bin/env bash
# Sets everything up on a fresh Debian 12 machine and runs the daemon on the embedded default:
# the private PostgreSQL in data/dev/postgres and the local Orthanc as PACS. Stops with Ctrl+C.
set -euo pipefail
# shellcheck source=Deploy/dev/prepare.sh
source "$(dirname "${BASH_SOURCE[0]}")/prepare.sh"

swift build -c release --product delineate
delineate=$(swift build -c release --show-bin-path)/delineate
export DELINEATE_HOME="$root"
export DELINEATE_PACS="$DELINEATE_ORTHANC_AE@$DELINEATE_ORTHANC_HOST:$DELINEATE_ORTHANC_DICOM_PORT"
# The worklist's "Pull a study from PACS" searches the same Orthanc (which knows us as DELINEATE).
export DELINEATE_PACS_SOURCES="$DELINEATE_PACS"
# Who may send to our C-STORE SCP: the demo's Orthanc (its C-MOVEs) and DCMTK's storescu by default.
export DELINEATE_ALLOWED_CALLERS=${DELINEATE_ALLOWED_CALLERS:-$DELINEATE_ORTHANC_AE,STORESCU}
export DELINEATE_HTTP_PORT=${DELINEATE_HTTP_PORT:-8080}
# The head CT opens with "brain" already named (structures.defaults), ready for its first click.
export DELINEATE_STRUCTURE_DEFAULTS=${DELINEATE_STRUCTURE_DEFAULTS:-CT HEAD: brain}

"$delineate" migrate
if ! psql "$DELINEATE_DATABASE_URL" -tAc "SELECT 1 FROM users WHERE username = 'admin'" | grep -q 1; then
    echo "delineate-demo" | "$delineate" user add admin --role admin --display-name "Demo Administrator"
    echo "demo login: admin / delineate-demo"
fi
# The demo cases, imported like any series from a modality: a real head CT (Debian's
# invesalius-examples, written as a coronal DICOM series) and a deterministic 512x512 CT phantom.
export DELINEATE_FILE_STORE="$root/data/files"
if [[ ! -d data/demo/head-ct ]]; then
    "$DELINEATE_PYTHON" Deploy/dev/invesalius_ct.py data/demo/head-ct
fi
if [[ ! -d data/demo/ct-001 ]]; then
    "$delineate" phantom --cases 1 --seed 1 --modality CT --size 512 --slices 64 --out data/demo
fi
"$delineate" import data/demo

echo "open http://127.0.0.1:$DELINEATE_HTTP_PORT/ and sign in as admin / delineate-demo"
export DELINEATE_MODELS="$root/Models" DELINEATE_WEB_ROOT="$root/Web"
exec "$delineate" serve
