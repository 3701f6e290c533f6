"""agreement-bot: answers questions about the U.S.-Mexico agreement against organized crime."""

__version__ = "0.1.0"
