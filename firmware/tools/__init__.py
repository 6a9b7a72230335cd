"""Tools over recorded media: replay, evaluation, zone snapshots, ffprobe."""
