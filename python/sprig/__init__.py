"""The Python side of Sprig: what Python apps and worker processes use.

Importing this package is cheap and has no side effects; it needs only the standard library.
"""

from sprig.files import File

__all__ = ["File"]
