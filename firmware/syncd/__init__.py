"""The sync process: events and clips to HQ, HQ's config back."""
