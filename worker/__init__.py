"""The Coalition worker: consumes events, relays the outbox and runs periodic jobs."""
