# ops: nginx for the reverse-proxy example check (tests/system/test_systemd_hq.py);
# slapd/ldap-utils for the directory sign-on tests (not yet written).
APT_PACKAGES += nginx-light slapd ldap-utils
