#!/usr/bin/env bash
# rpm-check.sh — packaging/rpm/evo-farm.spec parses (rpmspec -P) and builds
# with rpmbuild (Debian's rpm package; build dependencies unchecked), and
# the two RPMs hold what a site needs. Skipped where rpmbuild is missing.
set -eu
cd "$(dirname "$0")/../.."
VERSION=$(cat VERSION)
fail() { echo "rpm-check: FAIL: $*"; exit 1; }
command -v rpmbuild > /dev/null || { echo "rpm-check: SKIPPED: no rpmbuild (apt-get install rpm)"; exit 0; }
rpmspec -P --define "evo_version $VERSION" packaging/rpm/evo-farm.spec > /dev/null || fail "rpmspec -P"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
make rpm > "$log" 2>&1 || { tail -20 "$log"; fail "make rpm"; }
files=$(rpm -qlp build/rpm/RPMS/*/evo-farm-$VERSION-1.*.rpm 2> /dev/null)
for f in /usr/bin/evo-farm /usr/lib/libevofarm.so.1 /usr/include/evofarm/client.h /usr/lib/pkgconfig/evofarm.pc \
    /usr/lib/evo-farm/python/evofarm/futures.py /usr/share/man/man1/evo-farm.1 /usr/share/man/man5/evo-farm.yaml.5; do
    echo "$files" | grep -q "^$f" || fail "evo-farm rpm lacks $f"
done
plugin=$(rpm -qlp build/rpm/RPMS/*/slurm-spank-evo-farm-$VERSION-1.*.rpm 2> /dev/null)
for f in /usr/lib64/slurm/spank_evo_farm.so /etc/slurm/plugstack.conf.d/evo-farm.conf /usr/share/man/man8/spank_evo_farm.8; do
    echo "$plugin" | grep -q "^$f" || fail "slurm-spank-evo-farm rpm lacks $f"
done
# the plugstack line: optional, as the Debian package's (deb-check runs a
# refused step under it and finds nothing of the user's ran)
(cd "$(mktemp -d)" && rpm2cpio "$OLDPWD"/build/rpm/RPMS/*/slurm-spank-evo-farm-$VERSION-1.*.rpm | cpio -id --quiet &&
    grep -q "^optional /usr/lib64/slurm/spank_evo_farm.so" etc/slurm/plugstack.conf.d/evo-farm.conf && rm -rf "$PWD") ||
    fail "the rpm's plugstack.conf.d/evo-farm.conf does not load the plugin as optional"
rpm -qp --requires build/rpm/RPMS/*/slurm-spank-evo-farm-$VERSION-1.*.rpm 2> /dev/null | grep -q "^evo-farm = $VERSION-1" ||
    fail "the plugin rpm does not require the same evo-farm"
# the Slurm release as a build input: the plugin package is pinned to it
make rpm SLURM_VERSION=24.11.5 > "$log" 2>&1 || { tail -20 "$log"; fail "make rpm SLURM_VERSION=24.11.5"; }
rpm -qp --requires build/rpm/RPMS/*/slurm-spank-evo-farm-$VERSION-1.*.rpm 2> /dev/null | grep -q "^slurm = 24.11.5" ||
    fail "make rpm SLURM_VERSION=24.11.5 did not pin the plugin to slurm 24.11.5"
echo "rpm-check: spec parses, both RPMs build and hold the runtime, the plugin and the man pages; SLURM_VERSION pins the plugin"
