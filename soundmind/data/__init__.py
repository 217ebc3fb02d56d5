"""Data: the RAVDESS corpus from download to speaker-independent splits and augmented training copies."""
