# Sourced by demo.sh and test.sh (set -euo pipefail is theirs): goes to the checkout's root,
# installs the packages, starts the private PostgreSQL and Orthanc, and loads their environment.
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"

bash Deploy/dev/install.sh
bash Deploy/dev/services.sh start
# shellcheck source=/dev/null
source data/dev/env.sh
