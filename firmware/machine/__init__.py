"""The pure counter state machine: staff sessions, presence, transactions, ratings, alerts."""
