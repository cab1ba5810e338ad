#!/usr/bin/env bash
# Installs the Debian packages named on the command line that are missing.
# As root: apt-get update (once, only when something is missing) and
# apt-get install -y. Otherwise: prints the exact command and fails.
set -euo pipefail
missing=()
for p in "$@"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done
if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "easbridge: missing Debian packages: ${missing[*]}" >&2
	echo "run this, then try again:" >&2
	echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
	exit 1
fi
echo "easbridge: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
