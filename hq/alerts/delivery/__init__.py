"""Getting alerts to people: fan-out (plan), words (message), signed links, channels
(apprise), and the outbox worker that expands, escalates, sends and retries."""
