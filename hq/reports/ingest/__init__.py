"""The ingest-time projection: what each newly stored event (and each shift or
leave HQ authors) adds to the report tables, exactly once, in ingest's
transaction (``hq.storage.projection.project`` calls it).
"""
