"""`counterunit hq copy`: an embedded HQ (SQLite files + clips folder) into the database
and clip store another hq.toml names, verified and safe to re-run."""
