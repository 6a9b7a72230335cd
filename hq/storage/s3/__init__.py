"""Clips in an S3 API bucket: the store, its bookkeeping, the client, the config.

``config`` also picks the store hq.toml's ``[clips]`` names (local or S3).
"""
