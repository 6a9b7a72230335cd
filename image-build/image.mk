# image-build/: the .deb, its chroot and boot tests, and the arm64 root
# filesystem. None of these run in `make test` (they need root, debootstrap and
# minutes); see image-build/README.md.

# Only these targets need the packaging tools, so `make test` does not install them.
IMAGE_APT_PACKAGES := dpkg-dev debootstrap mmdebstrap systemd-container qemu-user-static \
	binfmt-support fakeroot arch-test

DEB_VERSION ?= $(shell sed -n 's/^version = "\(.*\)"/\1/p' pyproject.toml)
ARCH ?= amd64
SYSTEMD_DIR ?= systemd
DEB := dist/counterunit_$(DEB_VERSION)_$(ARCH).deb
IMAGE_WORK := build/image
APPLIANCE_PYTEST := COUNTERUNIT_APPLIANCE_TESTS=1 COUNTERUNIT_DEB=$(abspath $(DEB)) \
	$(PY) -m pytest -q -p no:cacheprovider -o addopts="-ra"

.PHONY: deb deb-test boot-test rootfs-arm64 appliance-tests image-apt

image-apt:
	@$(MAKE) --no-print-directory apt APT_PACKAGES="$(IMAGE_APT_PACKAGES)"

deb: deps image-apt
	$(PY) image-build/deb/build.py --arch $(ARCH) --version $(DEB_VERSION) \
		--systemd-dir $(SYSTEMD_DIR)

deb-test: deb
	$(APPLIANCE_PYTEST) tests/appliance/test_deb_chroot.py

boot-test: deb
	$(APPLIANCE_PYTEST) tests/appliance/test_boot_nspawn.py

appliance-tests: deb-test boot-test

# Once by hand, not in CI: an arm64 Debian 12 root with the arm64 package,
# built under qemu-user binfmt emulation. Prints its time and size.
rootfs-arm64:
	$(MAKE) deb ARCH=arm64
	$(SUDO) image-build/rootfs.sh arm64 dist/counterunit_$(DEB_VERSION)_arm64.deb \
		$(IMAGE_WORK)/rootfs-arm64
