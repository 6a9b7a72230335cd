# nginx for the reverse-proxy example: tests/system/test_systemd_hq.py checks it with
# `nginx -t`, tests/integration/hq/server/test_hq_proxy_cert.py runs it in front of a real HQ.
# (slapd for directory sign-on: tests/ldap.mk.)
APT_PACKAGES += nginx-light
