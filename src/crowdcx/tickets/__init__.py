"""Tickets: the inquiry lifecycle. ``rules`` (state machine, SLA, rating), ``policy`` (brand
policy values and validation) and ``masking`` (tiered customer-data display) are pure."""
