"""Benchmarks: each prints ratios measured in one run, its last line in the format its issue names."""
