"""Model inputs from frame crops: the letterbox and its numpy shrink."""
