# HQ on PostgreSQL (tests/servers/postgres.py, tests/pg/): Debian's PostgreSQL 15, whose
# initdb/pg_ctl the tests run in a temporary folder as the `postgres` user it creates.
APT_PACKAGES += postgresql
