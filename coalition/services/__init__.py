"""Use cases: change models and record events; flush, never commit."""
