"""Training stages and the shared training core."""
