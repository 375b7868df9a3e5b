#!/usr/bin/env bash
# Installs everything, builds, brings up a local 3-machine cluster and starts an example unit.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install.sh
npm run build
exports="$(npx fleet-dev up --machines 3)"
eval "$exports"
npx fleetctl start examples/hello.service
npx fleetctl list-units
echo
echo "The cluster is up. Point fleetctl at it in your shell with:"
echo '  eval "$(npx fleet-dev env)"'
echo "then follow the README's walkthrough."
