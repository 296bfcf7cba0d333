"""The version of Sprig's Parsl-compatible package: Sprig's version with ``+sprig`` appended."""

from sprig import __version__ as _sprig_version

VERSION = f"{_sprig_version}+sprig"
