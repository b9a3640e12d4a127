"""Domain errors that services raise; the API turns them into clear JSON answers."""


class StateConflict(Exception):
    """The action does not fit the object's current state (HTTP 409)."""

    def __init__(self, message: str, *, field: str = "status"):
        super().__init__(message)
        self.message = message
        self.field = field
