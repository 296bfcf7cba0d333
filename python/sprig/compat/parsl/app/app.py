"""Parsl's app decorators, served by Sprig (see :mod:`sprig.api`)."""

from sprig.api import App as AppBase
from sprig.api import bash_app, join_app, python_app

__all__ = ["AppBase", "python_app", "bash_app", "join_app"]
