"""Alert threads and alert policies."""
