"""Models of the backbone app: built in its own issue."""
