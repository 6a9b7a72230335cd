# systemd/: udevadm for the udev rule tests (tests/system/test_systemd_units.py);
# systemd-analyze/-sysusers/-tmpfiles come with systemd, libseccomp2 with systemd,
# unshare/setpriv with util-linux (all essential on Debian 12).
APT_PACKAGES += udev
