"""The config each window's units pull: the document (roster, schedule, rules, zones), checked
against the unit's own model, and its versions by ETag."""
