"""Routing: matching experts to tickets. ``rules`` is pure (eligibility, score, pool, cascade)."""
