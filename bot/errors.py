"""Errors that reach a person: each message says what went wrong and what to do."""


class ShieldError(Exception):
    """A problem the user can fix; the CLI prints it as one line, without a traceback."""


class SettingsError(ShieldError):
    """A settings file or variable is wrong; the message names the key."""


class InputError(ShieldError):
    """A file or argument given to a command cannot be used."""
