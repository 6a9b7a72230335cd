"""What many tests share: servers, fixtures, stand-in set-ups, media made on the fly."""
