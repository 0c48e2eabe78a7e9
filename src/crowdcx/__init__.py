"""CrowdCX: crowdsourced customer service — self-service, community and a paid expert crowd."""

__version__ = "0.1.0"
