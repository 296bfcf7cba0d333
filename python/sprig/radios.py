"""Parsl's monitoring radio configs (``parsl.monitoring.radios.*``): ``HTEXRadio``, ``UDPRadio``,
``FilesystemRadio``, ``MultiprocessingQueueRadio``.

In Parsl a radio is how workers send their monitoring messages (task states, resource samples) to
the monitoring hub. Sprig has no hub: its workers report through the stream their block already
has with the engine, and the engine writes the database itself. So a radio given to an executor
(``remote_monitoring_radio=…``) is accepted and kept as the executor's attribute, and changes
nothing: no socket is opened and no file is written for it. Parameters are kept as attributes;
``UDPRadio`` requires ``address`` as Parsl's does.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


class RadioConfig:
    """The base of radio configs (Parsl's ``parsl.monitoring.radios.base.RadioConfig``)."""

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={value!r}" for name, value in vars(self).items())
        return f"{type(self).__name__}({fields})"


class HTEXRadio(RadioConfig):
    """Parsl's default for the ``HighThroughputExecutor``: messages through the interchange. Here:
    through the block's stream, which is what Sprig does for every radio."""


class UDPRadio(RadioConfig):
    """Parsl's UDP radio. Accepted; no UDP socket is opened (see the module)."""

    def __init__(self, *, port: int | None = None, atexit_timeout: int = 3, address: str, debug: bool = False,
                 hmac_digest: str = "sha512") -> None:
        self.port = port
        self.atexit_timeout = atexit_timeout
        self.address = address
        self.debug = debug
        self.hmac_digest = hmac_digest


class FilesystemRadio(RadioConfig):
    """Parsl's file-system radio (messages as files under the run directory). Accepted; no files are
    written (see the module)."""


class MultiprocessingQueueRadio(RadioConfig):
    """Parsl's default for the ``ThreadPoolExecutor`` (a queue in the submitting process). Accepted;
    the thread executor reports to the engine directly."""


__all__ = ["RadioConfig", "HTEXRadio", "UDPRadio", "FilesystemRadio", "MultiprocessingQueueRadio"]
