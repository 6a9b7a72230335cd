"""The host system: clock, logging, systemd notifications."""
