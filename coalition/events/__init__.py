"""Coalition events: names, envelope, outbox, topology and relay."""
