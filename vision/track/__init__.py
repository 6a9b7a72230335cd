"""Identity continuity per zone: who is in the zone, across missed detections."""
