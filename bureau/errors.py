"""The domain error every service raises (pure: the rules and the workflow tables use it too)."""


class ApplicationError(Exception):
    """A domain rule refused the change; the message is Chinese, for the user."""
