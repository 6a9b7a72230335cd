"""Benchmarks: ratios measured in one run; each prints, last, the line its issue names."""
