"""Raspberry Pi cameras through picamera2 (libcamera), and their doctor rows."""
