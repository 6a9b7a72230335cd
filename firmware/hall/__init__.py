"""The hall-unit role (seed function 4): people per waiting area, crowd alerts."""
