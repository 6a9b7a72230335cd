"""USB (UVC) cameras through V4L2: camera, sessions, node discovery, doctor rows."""
