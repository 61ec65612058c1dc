"""User-facing errors: the CLI prints them as one line and exits non-zero."""


class UserError(Exception):
    """A problem with the user's input (a file, an option) rather than a bug in mobilestyle."""
