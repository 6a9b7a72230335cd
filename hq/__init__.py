"""Reference HQ service: the certificate authority, enrollment, ingest and recordings.

Importing this package has no side effects; ``hq`` shares only ``sync.schema`` with the unit.
"""
