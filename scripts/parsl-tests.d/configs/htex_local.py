"""`parsl.tests.configs.htex_local` for Parsl's tests under Sprig: Sprig's ready-made
`parsl.configs.htex_local` (one `HighThroughputExecutor` labelled `htex_local`, 1 core per
worker, one `LocalProvider` block), a fresh copy per call."""

import importlib

import parsl.configs.htex_local as _ready_made


def fresh_config():
    return importlib.reload(_ready_made).config


config = fresh_config()
