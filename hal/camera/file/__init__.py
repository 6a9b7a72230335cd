"""A video file as the camera (demo, replay): decoding, its own H.264, doctor row."""
