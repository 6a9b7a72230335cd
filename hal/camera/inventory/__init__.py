"""The cameras plugged in (V4L2, libcamera, OAK) and doctor's machine-wide camera rows."""
