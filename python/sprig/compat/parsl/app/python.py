"""Parsl's ``parsl.app.python``: :class:`PythonApp`, the class ``@python_app`` makes (see :mod:`sprig.api`)."""

from sprig.api import PythonApp

__all__ = ["PythonApp"]
