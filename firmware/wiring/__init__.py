"""From config to a running unit: back-ends, models, the loop."""
