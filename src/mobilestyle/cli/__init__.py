"""The `mobilestyle` command line. Each module of this package registers its commands on `app`."""

from mobilestyle.cli.app import app, main

__all__ = ["app", "main"]
