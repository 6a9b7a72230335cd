"""HQ's users: accounts, passwords, sessions, login throttling, roles."""
