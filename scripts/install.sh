#!/usr/bin/env bash
# Installs what fleet needs on a fresh Debian 12 machine (run as root): etcd and NATS servers
# for the registry and hints, systemd-nspawn for sandbox machines, then the npm workspaces.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
for bin in /usr/bin/etcd /usr/sbin/nats-server /usr/bin/systemd-nspawn /usr/bin/dbus-daemon /usr/bin/nsenter; do
  [ -x "$bin" ] || need+=("$bin")
done
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq systemd-container etcd-server nats-server dbus util-linux >/dev/null
fi
npm ci --no-audit --no-fund
