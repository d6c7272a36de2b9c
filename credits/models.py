"""Models of the credits app: built in its own issue."""
