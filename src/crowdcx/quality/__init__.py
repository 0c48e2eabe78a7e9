"""Quality control of the expert crowd: sampled reviews of resolutions against a scorecard."""
