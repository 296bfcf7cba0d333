"""Parsl's ``parsl.dataflow.states``: Sprig's task states (:mod:`sprig.states`), under Parsl's name."""

from sprig.states import FINAL_FAILURE_STATES, FINAL_STATES, States

__all__ = ["States", "FINAL_STATES", "FINAL_FAILURE_STATES"]
