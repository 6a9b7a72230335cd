"""The counter daemon: the unit loop and what it keeps on disk."""
