"""Queue-machine linkage (seed function 9): pure threshold, ticket and feed-watch logic,
and the glue (link.py) the daemon calls. See docs/queue-protocol.md."""
