# nginx for the reverse-proxy example check (tests/system/test_systemd_hq.py).
APT_PACKAGES += nginx-light
