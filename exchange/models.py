"""Models of the exchange app: built in its own issue."""
