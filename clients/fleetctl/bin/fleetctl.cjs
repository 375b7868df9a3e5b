#!/usr/bin/env node
// fleetctl, bundled by scripts/bundle-fleetctl.mjs at build time.
require("../dist/fleetctl.cjs");
