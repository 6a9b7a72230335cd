"""Writing the organisation into events.db: one record at a time or many in one transaction,
each change followed by new config versions."""
