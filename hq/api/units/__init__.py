"""What a unit calls: enrollment, renewal, events, config, status, uploads."""
