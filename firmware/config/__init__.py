"""The unit's configuration: unit.toml's models, and HQ's pushed sections."""
