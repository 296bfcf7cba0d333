"""Parsl's ``MonitoringHub``: ``Config(monitoring=MonitoringHub(...))`` makes the engine write
Parsl's monitoring database (SQLite, Parsl's schema), which ``parsl-visualize`` and
``sprig report`` read. There is no hub process: the engine writes the file itself, off the hot path.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_SQLITE = "sqlite:///"


class MonitoringHub:
    """Parsl's monitoring settings, with Parsl's parameters.

    - ``logging_endpoint``: where the database is, as Parsl's ``sqlite:///PATH`` URL (``sqlite:////abs``
      for an absolute path); default ``<run_dir>/monitoring.db``, shared by every run there.
    - ``resource_monitoring_enabled``, ``resource_monitoring_interval`` (seconds): process-executor
      workers sample each try's CPU, memory, threads and I/O from /proc (at its end, and every
      interval while it runs; a bash app's command counted), as Parsl's ``resource`` rows; an
      interval of 0 samples nothing, as in Parsl; the thread executor records none, as in Parsl.
    - ``workflow_name`` (default: the script's file name), ``workflow_version`` (default: the start time).
    - ``hub_address``, ``hub_port``, ``hub_port_range`` (unused by Parsl too) and ``monitoring_debug``
      are accepted and ignored.
    """

    def __init__(self, hub_address: Any = None, hub_port_range: Any = None, hub_port: Any = None,
                 workflow_name: str | None = None, workflow_version: str | None = None,
                 logging_endpoint: str | None = None, monitoring_debug: bool = False,
                 resource_monitoring_enabled: bool = True, resource_monitoring_interval: float = 30) -> None:
        self.hub_address = hub_address
        self.hub_port_range = hub_port_range
        self.hub_port = hub_port
        self.workflow_name = workflow_name
        self.workflow_version = workflow_version
        self.logging_endpoint = logging_endpoint
        self.monitoring_debug = monitoring_debug
        self.resource_monitoring_enabled = resource_monitoring_enabled
        self.resource_monitoring_interval = resource_monitoring_interval

    def database_path(self) -> str | None:
        """The file ``logging_endpoint`` names, or None for the default."""
        endpoint = self.logging_endpoint
        if endpoint is None:
            return None
        if not isinstance(endpoint, str) or not endpoint.startswith(_SQLITE) or len(endpoint) == len(_SQLITE):
            raise ValueError(f"MonitoringHub: logging_endpoint {endpoint!r} is not supported; "
                             f"Sprig writes SQLite: give 'sqlite:///relative/path.db' or 'sqlite:////absolute/path.db'")
        return endpoint[len(_SQLITE):]

    def to_spec(self) -> dict[str, Any]:
        """The ``monitoring`` part of the config spec."""
        interval = self.resource_monitoring_interval
        if isinstance(interval, bool) or not isinstance(interval, (int, float)) or interval < 0:
            raise ValueError(f"MonitoringHub: resource_monitoring_interval must be a number of seconds >= 0, not {interval!r}")
        for name in ("workflow_name", "workflow_version"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise TypeError(f"MonitoringHub: {name} must be a str, not {type(value).__name__}")
        return {
            "database": self.database_path(),
            "resource_monitoring_enabled": bool(self.resource_monitoring_enabled),
            "resource_monitoring_interval": float(interval),
            "workflow_name": self.workflow_name,
            "workflow_version": self.workflow_version,
        }

    def __repr__(self) -> str:
        return (f"MonitoringHub(logging_endpoint={self.logging_endpoint!r}, "
                f"resource_monitoring_interval={self.resource_monitoring_interval!r})")


__all__ = ["MonitoringHub"]
