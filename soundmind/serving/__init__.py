"""Serving: scoring people's own audio with a trained bundle, from Python and the command line."""
