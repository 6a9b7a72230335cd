"""Administration pages: users, the audit log, the organisation."""
