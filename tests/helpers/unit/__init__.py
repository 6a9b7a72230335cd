"""Helpers for tests of the unit: its daemon, cameras, keypad fuzz, audio, sync on the wire."""
