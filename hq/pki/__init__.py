"""HQ's certificate authority, unit certificates and enrollment codes."""
