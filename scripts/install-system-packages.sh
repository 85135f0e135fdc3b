#!/bin/sh
# Install the Debian packages the site and its tests need, if any is missing.
# Runs as root on a fresh Debian machine; does nothing when all are present.
set -eu

PACKAGES="python3-venv python3-dev gcc libldap2-dev libsasl2-dev slapd ldap-utils
sqlite3 chromium fonts-dejavu-core wamerican wrk postgresql redis-server openssl"

missing=""
for package in $PACKAGES; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed"; then
        missing="$missing $package"
    fi
done

if [ -z "$missing" ]; then
    exit 0
fi

if [ "$(id -u)" != 0 ]; then
    echo "Missing Debian packages:$missing" >&2
    echo "Install them as root: apt-get install$missing" >&2
    exit 1
fi

echo "Installing Debian packages:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
