#!/usr/bin/env bash
# Installs every Debian package Delineate needs to build, test and run (idempotent).
# The Swift toolchain itself is expected on PATH (Swift 6.x).
set -euo pipefail

packages=(
    # build: native libraries wrapped by CDCMTK, CLibPQ and COpenBLAS
    libdcmtk-dev libpq-dev libopenblas-dev zlib1g-dev libldap-dev pkg-config
    # services: the embedded database and the PACS used by the demo and the tests
    postgresql postgresql-contrib orthanc orthanc-dicomweb
    # DICOM peers and validators used by the tests
    dcmtk dicom3tools
    # the hospital directory the LDAP sign-in is tested against (a private slapd per test)
    slapd ldap-utils
    # the real browser the web client is tested in, and the WebDriver server Selenium drives it by
    chromium chromium-driver fonts-dejavu-core
    # tools the scripts use
    curl ca-certificates openssl procps python3 python3-venv
    # the demo's real patient: a head CT (InVesalius project, GPL-2; Deploy/dev/invesalius_ct.py)
    invesalius-examples
    # checkers of the deployment files (systemd units, logrotate) in the tests
    systemd logrotate
)

missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done

if ((${#missing[@]})); then
    echo "installing: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # Debian's packages try to start their own services; ours are started by services.sh instead.
    policy=/usr/sbin/policy-rc.d
    created_policy=0
    if [[ ! -e $policy ]]; then
        printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created_policy=1
    fi
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    ((created_policy)) && rm -f "$policy"
fi

# Python tools the tests use as independent clients: highdicom reads our SEGs back, dicomweb-client
# reads our DICOMweb server, Selenium drives the browser checks, schemathesis
# fuzzes the HTTP API from Docs/openapi.yaml, oidc-provider-mock is the OpenID Connect provider
# the hospital sign-in is tested against, and MONAI Label's wheel brings the client its 3D
# Slicer plugin uses (installed without its dependencies: the clients need none of PyTorch or MONAI).
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
venv="$root/data/dev/pyenv"
if ! "$venv/bin/python" -c "import highdicom, dicomweb_client, schemathesis, monailabel, selenium, oidc_provider_mock" 2>/dev/null; then
    mkdir -p "$root/data/dev"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$root/Deploy/dev/requirements-test.txt"
    "$venv/bin/pip" install -q --disable-pip-version-check --no-deps monailabel==0.8.5
fi

command -v swift >/dev/null || { echo "error: swift is not on PATH; install Swift 6.x first" >&2; exit 1; }
echo "dependencies installed"
