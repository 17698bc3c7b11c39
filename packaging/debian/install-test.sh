#!/usr/bin/env bash
# Builds the Debian package and installs it on THIS machine with dpkg, checks
# it, then removes and purges it and checks that nothing is left.
# Meant for CI machines and throwaway containers: it needs root and changes
# the system, so it refuses to run unless CI=true or --yes is given.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ "${CI:-}" != "true" ] && [ "${1:-}" != "--yes" ]; then
    echo "install-test.sh installs a package on this machine; run it with --yes (or CI=true)" >&2
    exit 2
fi
if [ "$(id -u)" != 0 ]; then
    echo "install-test.sh needs root (dpkg -i)" >&2
    exit 2
fi
command -v cargo-deb >/dev/null 2>&1 || cargo install cargo-deb --locked

echo "== cargo deb"
# Its output goes to a log, shown when it fails (the last line names the package).
log=$(mktemp)
if ! cargo deb >"$log" 2>&1; then
    tail -40 "$log"
    echo "cargo deb failed; disk space here:"
    df -h . /tmp 2>/dev/null || true
    exit 1
fi
deb=$(tail -1 "$log")
rm -f "$log"
test -f "$deb" || { echo "no package built: $deb"; exit 1; }
ls -l "$deb"
if command -v lintian >/dev/null 2>&1; then
    echo "== lintian (errors fail the test)"
    lintian --fail-on error --suppress-tags-from-file packaging/debian/lintian-suppressions "$deb" || exit 1
fi

echo "== dpkg -i"
dpkg -i "$deb"
test -x /usr/bin/nestguard
test -f /usr/share/nestguard/rules/lists/adult/domains.txt.gz
stat -c '%U:%G %a' /etc/nestguard/nestguard.toml | grep -qx 'root:nestguard 640'
getent passwd nestguard >/dev/null
echo "== nestguard check"
nestguard check --config /etc/nestguard/nestguard.toml
echo "== systemd-analyze verify"
unit=$(dpkg -L nestguard | grep '/nestguard.service$')
systemd-analyze verify "$unit"
systemd-analyze security --offline=true --threshold=15 "$unit" | tail -1

echo "== dpkg --remove"
dpkg --remove nestguard
test ! -e /usr/bin/nestguard
test -f /etc/nestguard/nestguard.toml   # a conffile stays until purge
echo "== dpkg --purge"
dpkg --purge nestguard
test ! -e /etc/nestguard
test ! -e /var/lib/nestguard
if dpkg -l nestguard 2>/dev/null | grep -q '^ii'; then
    echo "still installed"; exit 1
fi
echo "install test passed"
