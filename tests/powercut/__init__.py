"""Power cuts for real: an LD_PRELOAD shim drops every write not yet fsynced (docs/powercut.md)."""
