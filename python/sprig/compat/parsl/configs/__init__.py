"""Parsl's ready-made configs, served by Sprig: ``local_threads`` and ``htex_local``."""
