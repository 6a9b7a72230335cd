"""Demo data for HQ: ``seed-demo`` (:mod:`.seed`) and its org writer (:mod:`.orgwrite`)."""
