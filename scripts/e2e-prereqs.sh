#!/usr/bin/env bash
# What `make test-e2e` needs besides Go, make and bash: iptables and root, for
# the partition scenario (testutil/e2e/partition_test.go closes a validator's
# P2P port on the loopback interface with iptables and cuts its connections
# with ss -K, from iproute2). CI runs as root: when iptables is
# missing this script installs it with apt-get (Debian/Ubuntu). Run as
# another user, or where iptables cannot be installed, it says so and fails;
# E2E_SKIP_PARTITION=1 skips the check and the scenario.
set -euo pipefail

say() { printf 'e2e-prereqs: %s\n' "$*"; }
die() {
  say "$*" >&2
  say "set E2E_SKIP_PARTITION=1 to run the end-to-end tests without the partition scenario" >&2
  exit 1
}

if [[ ${E2E_SKIP_PARTITION:-0} == 1 ]]; then
  say "E2E_SKIP_PARTITION=1: the partition scenario is skipped, iptables not needed"
  exit 0
fi
[[ $(id -u) == 0 ]] || die "the partition scenario changes the firewall: run as root"
if ! command -v iptables >/dev/null 2>&1; then
  command -v apt-get >/dev/null 2>&1 || die "iptables is missing and there is no apt-get to install it"
  say "installing iptables with apt-get"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q iptables >/dev/null; then
    DEBIAN_FRONTEND=noninteractive apt-get update -q >/dev/null &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q iptables >/dev/null ||
      die "apt-get could not install iptables"
  fi
fi
iptables -w -n -L INPUT >/dev/null 2>&1 || die "iptables cannot read the firewall here (CAP_NET_ADMIN needed)"
command -v ss >/dev/null 2>&1 || die "ss (iproute2) is missing: the scenario cuts the node's connections with ss -K"
say "$(iptables -V), $(ss -V)"
