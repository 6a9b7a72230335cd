"""Counting people in a waiting hall (seed function 4): areas, background, blobs, scoring."""
