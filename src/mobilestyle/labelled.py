"""`LABEL=VALUE` words of a repeatable command-line option (`--student "batch norm=models/muse.npz"`)."""

from collections.abc import Iterable

from mobilestyle.errors import UserError


def labelled_values(option: str, words: Iterable[str], form: str = "LABEL=PATH") -> dict[str, str]:
    """The words as {label: value}, in the order given; split at the first `=`, so a value may hold `=`.

    A word without a label or a value, or a label given twice, is a one-line `UserError` naming `option`
    and the `form` it wants.
    """
    named: dict[str, str] = {}
    for word in words:
        label, equals, value = word.partition("=")
        if not (label and equals and value):
            raise UserError(f"{option} wants {form}, got {word!r}")
        if label in named:
            raise UserError(f"{option} {label} is given twice")
        named[label] = value
    return named
