"""Parsl's ``parsl.app.errors``, served by Sprig (see :mod:`sprig.errors`)."""

from sprig.errors import (
    AppException,
    AppTimeout,
    BadStdStreamFile,
    BashAppNoReturn,
    BashExitFailure,
    MissingOutputs,
    ParslError,
    RemoteException,
)

__all__ = ["ParslError", "AppException", "BashExitFailure", "AppTimeout", "BashAppNoReturn", "MissingOutputs",
           "BadStdStreamFile", "RemoteException"]
