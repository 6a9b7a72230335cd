"""HQ's HTTP API (versioned under /v1): unit-facing and HQ-user-facing routers."""
