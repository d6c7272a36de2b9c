"""Models of the training app: built in its own issue."""
