#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs the Debian packages that building and testing faultgate need, and
# only those that are missing. Needs root (or sudo) when something is missing.
set -euo pipefail

pkgs=(build-essential cmake pkg-config
      libseccomp-dev libyaml-dev libcurl4-openssl-dev libjansson-dev libelf-dev
      check libsubunit-dev golang-go jq curl procps iproute2 strace
      libnl-3-dev libnl-genl-3-dev chromium python3 util-linux binutils)
[ "${1:-}" = "--bench" ] && pkgs+=(wrk fiu-utils)

missing=()
for p in "${pkgs[@]}"; do
	st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	[ "$st" = "install ok installed" ] || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "faultgate: installing missing packages: ${missing[*]}" >&2
sudo=""
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null; then
		sudo=sudo
	else
		echo "faultgate: run as root, or install: apt-get install ${missing[*]}" >&2
		exit 2
	fi
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
