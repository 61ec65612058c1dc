"""The consoles every command prints to.

soft_wrap: a one-line message (a written file's path, an error) stays one line at any terminal width, so
it can be copied and grepped; tables still fit the terminal, since their columns wrap on their own.
"""

from rich.console import Console

console = Console(soft_wrap=True)
err_console = Console(stderr=True, soft_wrap=True)
