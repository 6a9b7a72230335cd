#!/bin/sh
# Jetson (Orin Nano / NX) root filesystem with counterunit, in the L4T flow:
#   1. unpack NVIDIA's Linux_for_Tegra BSP and the sample rootfs (JetPack 6 = Ubuntu 22.04)
#   2. sudo ./apply_binaries.sh            (NVIDIA userspace into rootfs/)
#   3. this script: our package and appliance settings into rootfs/
#   4. sudo ./tools/l4t_create_default_user.sh -u admin -p ... --accept-license
#   5. sudo ./tools/kernel_flash/l4t_initrd_flash.sh ... (or ./flash.sh jetson-orin-nano-devkit internal)
# NOT RUN HERE: the BSP and sample rootfs come from developer.nvidia.com and
# cannot be fetched on the machine this repository is built on.
#
# Usage: sudo jetson/build-rootfs.sh /path/to/Linux_for_Tegra dist/counterunit_X_arm64.deb
set -eu
L4T=$1 DEB=$(readlink -f "$2")
HERE=$(cd "$(dirname "$0")" && pwd)
ROOTFS=$L4T/rootfs
[ -x "$L4T/apply_binaries.sh" ] || { echo "$L4T is not a Linux_for_Tegra folder" >&2; exit 1; }
[ -f "$ROOTFS/etc/nv_tegra_release" ] || { echo "run apply_binaries.sh first" >&2; exit 1; }

# Ubuntu 22.04's python3 is 3.10; the package's wheels are cp311, so it depends
# on python3.11 + python3.11-venv (jammy universe). qemu-user-static runs the
# maintainer scripts (venv creation) for the arm64 root on an x86 host.
cp /usr/bin/qemu-aarch64-static "$ROOTFS/usr/bin/" 2>/dev/null || true
cp "$DEB" "$ROOTFS/tmp/"
for d in dev proc sys; do mount --bind "/$d" "$ROOTFS/$d"; done
trap 'for d in sys proc dev; do umount "$ROOTFS/$d"; done' EXIT
chroot "$ROOTFS" sh -ec "
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        /tmp/$(basename "$DEB") systemd-timesyncd overlayroot
    rm /tmp/*.deb
"
install -D -m 0644 "$HERE/../common/journald-counterunit.conf" \
    "$ROOTFS/etc/systemd/journald.conf.d/counterunit.conf"
install -D -m 0755 "$HERE/../common/enable-readonly-root" \
    "$ROOTFS/usr/lib/counterunit/enable-readonly-root"
cat "$HERE/../common/fstab.data" >> "$ROOTFS/etc/fstab"
mkdir -p "$ROOTFS/var/lib/counterunit" "$ROOTFS/boot/counterunit"
cp "$HERE/../rpi/boot-partition-README.txt" "$ROOTFS/boot/counterunit/README.txt"
# The data partition: add to the flash layout (flash_l4t_t234_nvme.xml /
# flash_t234_qspi_sd.xml) a partition named CU-DATA, e.g.
#   <partition name="CU-DATA" type="data"><allocation_policy>sequential</allocation_policy>
#     <filesystem_type>basic</filesystem_type><size>8589934592</size>
#     <filename>cu-data.ext4</filename></partition>
# with cu-data.ext4 made by: mkfs.ext4 -L CU-DATA -d empty-dir cu-data.ext4 8G
echo "rootfs ready in $ROOTFS: now l4t_create_default_user.sh and flash"
