"""A reader for the old-style (OpenStep) property list that Xcode writes as project.pbxproj.

Values come back as dict, list or str (numbers stay strings, as in the file). Comments are skipped.
Anything else (a missing `;`, an unclosed brace, binary `<data>`) raises PbxprojError with the line.
"""

from __future__ import annotations

import re
from typing import Any

_UNQUOTED = re.compile(r"[A-Za-z0-9_$+/:.\-]+")
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r", "'": "'"}


class PbxprojError(ValueError):
    pass


class _Reader:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, message: str) -> PbxprojError:
        line = self.text.count("\n", 0, self.pos) + 1
        return PbxprojError(f"line {line}: {message}")

    def skip(self) -> None:
        while self.pos < len(self.text):
            if self.text[self.pos].isspace():
                self.pos += 1
            elif self.text.startswith("//", self.pos):
                end = self.text.find("\n", self.pos)
                self.pos = len(self.text) if end < 0 else end + 1
            elif self.text.startswith("/*", self.pos):
                end = self.text.find("*/", self.pos + 2)
                if end < 0:
                    raise self.fail("unclosed comment")
                self.pos = end + 2
            else:
                return

    def expect(self, char: str) -> None:
        self.skip()
        if not self.text.startswith(char, self.pos):
            found = self.text[self.pos:self.pos + 20] or "end of file"
            raise self.fail(f"expected {char!r}, found {found!r}")
        self.pos += 1

    def peek(self) -> str:
        self.skip()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def value(self) -> Any:
        char = self.peek()
        if char == "{":
            return self.dictionary()
        if char == "(":
            return self.array()
        if char == '"':
            return self.quoted()
        match = _UNQUOTED.match(self.text, self.pos)
        if not match:
            raise self.fail(f"unexpected {self.text[self.pos:self.pos + 20]!r}")
        self.pos = match.end()
        return match.group()

    def dictionary(self) -> dict[str, Any]:
        self.expect("{")
        result: dict[str, Any] = {}
        while self.peek() != "}":
            if not self.peek():
                raise self.fail("unclosed dictionary")
            key = self.value()
            if not isinstance(key, str):
                raise self.fail("dictionary key must be a string")
            if key in result:
                raise self.fail(f"duplicate key {key}")
            self.expect("=")
            result[key] = self.value()
            self.expect(";")
        self.expect("}")
        return result

    def array(self) -> list[Any]:
        self.expect("(")
        result: list[Any] = []
        while self.peek() != ")":
            if not self.peek():
                raise self.fail("unclosed array")
            result.append(self.value())
            if self.peek() != ")":
                self.expect(",")
        self.expect(")")
        return result

    def quoted(self) -> str:
        self.expect('"')
        chars: list[str] = []
        while True:
            if self.pos >= len(self.text):
                raise self.fail("unclosed string")
            char = self.text[self.pos]
            self.pos += 1
            if char == '"':
                return "".join(chars)
            if char == "\\":
                escaped = self.text[self.pos:self.pos + 1]
                if escaped not in _ESCAPES:
                    raise self.fail(f"unknown escape \\{escaped}")
                chars.append(_ESCAPES[escaped])
                self.pos += 1
            else:
                chars.append(char)


def parse(text: str) -> dict[str, Any]:
    """The top-level dictionary of a project.pbxproj text."""
    if not text.startswith("// !$*UTF8*$!"):
        raise PbxprojError("line 1: missing the // !$*UTF8*$! header")
    reader = _Reader(text)
    result = reader.dictionary()
    if reader.peek():
        raise reader.fail("text after the top-level dictionary")
    return result
