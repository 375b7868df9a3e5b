#!/usr/bin/env bash
# Installs what fleet needs on a fresh Debian 12 machine (run as root): etcd and NATS servers
# for the registry and hints, systemd-nspawn for sandbox machines, iptables for partitions of
# sandbox machines (fleet-dev partition), OpenSSH (sshd in every sandbox machine, ssh for
# fleetctl ssh/--tunnel), then the npm workspaces.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
for bin in /usr/bin/etcd /usr/sbin/nats-server /usr/bin/systemd-nspawn /usr/bin/dbus-daemon /usr/bin/nsenter /usr/sbin/iptables /usr/sbin/ip6tables-restore /usr/sbin/sshd /usr/bin/ssh /usr/bin/ssh-agent; do
  [ -x "$bin" ] || need+=("$bin")
done
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # No init system starts what these packages ship (no sshd on the host's addresses): a
  # policy-rc.d that refuses, unless the machine already has one.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get install -y -qq systemd-container etcd-server nats-server dbus util-linux iptables openssh-server openssh-client >/dev/null
fi
npm ci --no-audit --no-fund
