"""Package errors.

Every problem with the user's input is raised as :class:`InputError` with a message of the form
``"<what is wrong> — <how to fix it>"``; the command line prints it as one line and exits with code
2.
"""

from __future__ import annotations


class InputError(ValueError):
    """Invalid or unusable input (file, parameter or data).

    The message names what was received, what was expected and how to fix it.
    """


class SafetyError(InputError):
    """A request exceeds a published safety limit (refused unless forced)."""
