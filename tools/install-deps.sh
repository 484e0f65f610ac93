#!/usr/bin/env bash
# Installs the Debian 12 packages jcorr needs to build and to run its whole test suite.
# Idempotent: does nothing when everything is already installed.
set -euo pipefail
packages=(
  build-essential cmake pkg-config git clang-16 libclang-rt-16-dev
  libsystemd-dev libre2-dev nlohmann-json3-dev libboost-dev libboost-system-dev libssl-dev catch2
  systemd systemd-journal-remote python3 openssl
  debootstrap systemd-container openssh-server openssh-client sudo iproute2 util-linux
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Packages must not start daemons here (openssh-server would start sshd on port 22):
  # the tests start the sshd and journald they need themselves.
  policy=/usr/sbin/policy-rc.d
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 0755 "$policy"
    trap 'rm -f "$policy"' EXIT
  fi
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
