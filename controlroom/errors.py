"""Domain errors that services raise; the API turns them into clear JSON answers."""


class StateConflict(Exception):
    """The action does not fit the object's current state (HTTP 409)."""

    def __init__(self, message: str, *, field: str = "status"):
        super().__init__(message)
        self.message = message
        self.field = field


def form_add_errors(form, error) -> None:
    """Put a service's ValidationError on the form: on the field it names when the form has it,
    on the form as a whole otherwise."""
    for field, messages in error.message_dict.items():
        form.add_error(field if field in form.fields else None, messages)
