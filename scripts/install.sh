#!/usr/bin/env bash
# Installs what fleet needs on a fresh Debian 12 machine (run as root): etcd and NATS servers
# for the registry and hints, systemd-nspawn for sandbox machines, iptables for partitions of
# sandbox machines (fleet-dev partition), then the npm workspaces.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
for bin in /usr/bin/etcd /usr/sbin/nats-server /usr/bin/systemd-nspawn /usr/bin/dbus-daemon /usr/bin/nsenter /usr/sbin/iptables /usr/sbin/ip6tables-restore; do
  [ -x "$bin" ] || need+=("$bin")
done
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq systemd-container etcd-server nats-server dbus util-linux iptables >/dev/null
fi
npm ci --no-audit --no-fund
