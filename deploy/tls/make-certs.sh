#!/bin/sh
# Makes the certificates of a fleet cluster under mutual TLS (docs/security.md): a CA, one
# certificate per control-plane identity, one per machine (its common name is the machine id, so
# the gateway lets its agent act only for that machine), and optional client certificates for
# people (a common name that auth_certificate_roles maps to a role).
#
#   deploy/tls/make-certs.sh OUT_DIR --hosts "10.0.0.1,fleet.example.com" \
#       [--machine MACHINE_ID]... [--client NAME]... [--no-control-plane]
#
# OUT_DIR gets ca.pem (give it to every process as tls_ca_file), ca.key (keep it offline), and
# NAME.pem / NAME.key for fleet-api, fleet-engine, fleet-registry-gateway, each machine id and
# each client. --hosts are the names and addresses the api and the gateways are reached at (and,
# for a machine's certificate, the address its agent serves AgentService on). An existing CA in
# OUT_DIR is kept, so a machine added later gets its certificate from the same CA:
#
#   deploy/tls/make-certs.sh OUT_DIR --hosts 10.0.0.7 --machine MACHINE_ID --no-control-plane
set -eu
[ $# -ge 1 ] || { echo "usage: $0 OUT_DIR --hosts H1,H2 [--machine ID]... [--client NAME]... [--no-control-plane]" >&2; exit 2; }
out=$1; shift
hosts=""; machines=""; clients=""; control_plane=yes
while [ $# -gt 0 ]; do
  case $1 in
    --hosts) hosts=$2; shift 2 ;;
    --machine) machines="$machines $2"; shift 2 ;;
    --client) clients="$clients $2"; shift 2 ;;
    --no-control-plane) control_plane=no; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
mkdir -p "$out"; umask 077
[ -f "$out/ca.pem" ] || openssl req -x509 -newkey rsa:3072 -nodes -days 3650 -subj "/CN=fleet-ca" -keyout "$out/ca.key" -out "$out/ca.pem" 2>/dev/null

san=""
for h in $(echo "$hosts" | tr ',' ' ') localhost 127.0.0.1; do
  case $h in *[!0-9.]*) san="$san,DNS:$h" ;; *) san="$san,IP:$h" ;; esac
done
san=${san#,}

# cert NAME USAGE [SAN]
cert() {
  ext="$out/$1.ext"
  printf 'extendedKeyUsage=%s\n' "$2" > "$ext"
  [ -z "${3:-}" ] || printf 'subjectAltName=%s\n' "$3" >> "$ext"
  openssl req -newkey rsa:2048 -nodes -subj "/CN=$1" -keyout "$out/$1.key" -out "$out/$1.csr" 2>/dev/null
  openssl x509 -req -in "$out/$1.csr" -CA "$out/ca.pem" -CAkey "$out/ca.key" -CAcreateserial -days 825 -extfile "$ext" -out "$out/$1.pem" 2>/dev/null
  rm -f "$out/$1.csr" "$ext"
  echo "$out/$1.pem"
}

if [ $control_plane = yes ]; then
  for name in fleet-api fleet-registry-gateway fleet-engine; do cert "$name" serverAuth,clientAuth "$san"; done
fi
# An agent serves AgentService on its public IP and calls the gateway: both uses.
for id in $machines; do
  echo "$id" | grep -Eq '^[0-9a-f]{32}$' || { echo "not a machine id: $id" >&2; exit 2; }
  cert "$id" serverAuth,clientAuth "$san"
done
for name in $clients; do cert "$name" clientAuth; done
