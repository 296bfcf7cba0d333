"""Parsl's ``parsl.jobs``: :mod:`parsl.jobs.states` (the states of a block, as providers report them).

Parsl's scaling strategy, block error handlers and status poller (``parsl.jobs.strategy``,
``error_handlers``, ``job_status_poller``, ``errors``) are not provided: Sprig's engine scales
and supervises blocks itself.
"""

from parsl import _unsupported


def __getattr__(name: str) -> object:
    raise _unsupported.attribute_error("parsl.jobs", name)
