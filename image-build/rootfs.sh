#!/bin/sh
# rootfs.sh ARCH DEB OUT: a Debian 12 root filesystem (directory) with systemd
# and the counterunit package installed, for ARCH amd64 or arm64 (arm64 runs
# the maintainer scripts under qemu-user-static via binfmt_misc). The image
# recipes in rpi/ and jetson/ start from their vendors' roots instead; this is
# the part of their flow that can run on any Debian machine.
set -eu
ARCH=$1 DEB=$(readlink -f "$2") OUT=$3
MIRROR=${MIRROR:-http://deb.debian.org/debian}
if [ "$ARCH" != "$(dpkg --print-architecture)" ]; then
    update-binfmts --enable "qemu-$(echo "$ARCH" | sed 's/arm64/aarch64/')" 2>/dev/null || true
    arch-test "$ARCH" >/dev/null || { echo "no binfmt emulation for $ARCH" >&2; exit 1; }
fi
rm -rf "$OUT"
mkdir -p "$(dirname "$OUT")"
start=$(date +%s)
# The package's own Depends are resolved by apt from the mirror; the .deb is
# copied in and installed like any local package (no network needed by pip).
mmdebstrap --variant=minbase --mode=root --architectures="$ARCH" \
    --include=systemd,systemd-sysv,systemd-timesyncd,udev,dbus,procps,iproute2,apt \
    --customize-hook="copy-in $DEB /tmp" \
    --customize-hook="chroot \"\$1\" apt-get install -y --no-install-recommends /tmp/$(basename "$DEB")" \
    --customize-hook="chroot \"\$1\" counterunit check-config /etc/counterunit/unit.toml" \
    --customize-hook='rm -f "$1"/tmp/*.deb' \
    bookworm "$OUT" "$MIRROR"
end=$(date +%s)
# A process started by a maintainer script under qemu can keep mmdebstrap's
# /proc mount alive; never leave it behind.
if mountpoint -q "$OUT/proc"; then umount -l "$OUT/proc"; fi
echo "rootfs $ARCH: $((end - start)) s, $(du -sh --exclude=proc "$OUT" | cut -f1) in $OUT"
