# Directory sign-on (tests/servers/slapd.py, tests/ldap/): Debian's OpenLDAP server, which
# the tests start in a temporary folder with their own slapd.conf, and its client tools.
APT_PACKAGES += slapd ldap-utils
