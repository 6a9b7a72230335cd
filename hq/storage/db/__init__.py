"""HQ's database back-ends: SQLite files (embedded) or one PostgreSQL database.

``dialect`` rewrites SQLite's SQL for PostgreSQL, ``engine`` gives PostgreSQL the
sqlite3 surface HQ's stores use, ``migrate`` holds the schema revisions (alembic) and
the check that HQ knows the schema it is opening, ``backend`` applies ``hq.toml``.
"""
