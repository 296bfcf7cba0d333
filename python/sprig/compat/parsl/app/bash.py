"""Parsl's ``parsl.app.bash``: :class:`BashApp`, the class ``@bash_app`` makes (see :mod:`sprig.api`)."""

from sprig.api import BashApp

__all__ = ["BashApp"]
