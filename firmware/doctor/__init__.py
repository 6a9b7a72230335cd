"""``counterunit doctor``: checks of cameras, devices, host, models and HQ."""
