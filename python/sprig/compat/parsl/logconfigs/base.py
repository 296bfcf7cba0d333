"""Parsl's ``parsl.logconfigs.base``: :class:`LogConfig` and its once-per-process set-up."""

from sprig.log_configs import (  # noqa: F401  (the registry is shared, not copied)
    LogConfig, _initialized_log_context_lock, _initialized_log_contexts, oneshot_initialize_logging,
    oneshot_uninitialize_logging,
)

__all__ = ["LogConfig", "oneshot_initialize_logging", "oneshot_uninitialize_logging"]
