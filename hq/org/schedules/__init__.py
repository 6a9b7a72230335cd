"""Schedules: weekly shift templates expanded into dated UTC shifts, and a window's planned
closed / away-on-business periods."""
