"""The live hall: dashboard, windows, units, event counts."""
