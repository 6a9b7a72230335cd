"""``counterunit status``: what the processes publish, and how it is shown."""
