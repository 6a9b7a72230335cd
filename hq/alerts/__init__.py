"""Alert threads, their policies and their delivery (issue 16).

One thread per episode (an off-seat absence, a unit gone quiet, a unit's disk, ...) whose
level rises and which closes on recovery. Ingest updates threads in the event's own
transaction (:func:`hq.alerts.ingest.apply`); a worker delivers what the policy asks for
through an outbox (:mod:`hq.alerts.delivery.worker`). web/ and api/ call in here, never the reverse.
"""

from hq.alerts.queries import acknowledge, open_threads

__all__ = ["acknowledge", "open_threads"]
