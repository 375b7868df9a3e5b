#!/usr/bin/env bash
# buf breaking for the public API (fleet.v1; buf.yaml leaves the internal package out): the
# working tree against the last commit of main. On main itself (a CI clone), that is the commit
# before HEAD, so every commit on main is checked against the one it follows. Without git
# history (an export, a shallow clone) there is nothing to compare with: it says so and passes.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! git rev-parse --verify -q main >/dev/null; then
  echo "buf-breaking: no main branch here; nothing to compare the proto files with" >&2
  exit 0
fi
against=main
if [ "$(git rev-parse HEAD)" = "$(git rev-parse main)" ] && git diff --quiet HEAD -- proto; then
  if ! git rev-parse --verify -q main~1 >/dev/null; then
    echo "buf-breaking: main has no earlier commit; nothing to compare with" >&2
    exit 0
  fi
  against=main~1
fi
# buf reads the other revision's proto/ from git itself.
npx --no-install buf breaking --against ".git#ref=$(git rev-parse "$against"),subdir=proto" proto
echo "buf-breaking: the public API does not break against $against ($(git rev-parse --short "$against"))"
