"""Parsl's ``parsl.logconfigs``: log configs for ``Config(initialize_logging=...)`` (see
:mod:`sprig.log_configs`)."""
