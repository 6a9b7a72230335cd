"""HQ's database back-ends: SQLite files (embedded) or one PostgreSQL database.

``routes`` says which data-folder files live in PostgreSQL (a schema each), ``dialect``
rewrites SQLite's SQL for PostgreSQL, ``adapt`` gives psycopg sqlite3's rows, types and
exception classes, ``engine`` gives PostgreSQL the sqlite3 connection surface HQ's stores
use, ``migrate`` holds the schema revisions (alembic) and the check that HQ knows the
schema it is opening, ``tables`` makes every table a new database needs, ``backend``
applies ``hq.toml``.
"""
