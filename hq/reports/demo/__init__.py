"""Demo data for HQ: ``seed-demo`` (:mod:`.seed`)."""
