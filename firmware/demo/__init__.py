"""``counterunit demo``: a composed counter day against an embedded HQ."""
