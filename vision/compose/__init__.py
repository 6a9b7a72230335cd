"""Composed test scenes from packaged photographs: actors, catalog, video."""
