"""`parsl.tests.configs.local_threads` for Parsl's tests under Sprig: Sprig's ready-made
`parsl.configs.local_threads` (one `ThreadPoolExecutor()`, 2 threads), a fresh copy per call."""

import importlib

import parsl.configs.local_threads as _ready_made


def fresh_config():
    return importlib.reload(_ready_made).config


config = fresh_config()
