"""The renewal clock: milestone nudges to the right owners, exactly once, at a sane hour."""
