"""HQ's HTTPS server: TLS with unit client certificates, limits, embedded HQ."""
