"""Payouts: pay per resolution. ``rules`` is pure (pricing, double-entry postings, balance)."""
