"""What HQ knows of each unit besides its events (last heard, config run or refused, posted
status) and the /units overview built from it."""
