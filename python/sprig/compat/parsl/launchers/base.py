"""Parsl's ``parsl.launchers.base``: :class:`Launcher`, the base of every launcher.

A launcher is a plain value: calling it with ``(command, tasks_per_node, nodes_per_block)`` gives
the shell text that starts ``command`` that many times on a block's nodes, as a batch job's script
would run it. Every launcher is also a :class:`sprig.config.Launcher`, so providers accept it.
"""

from __future__ import annotations

from abc import ABCMeta, abstractmethod

from sprig.config import Launcher as _SprigLauncher

from parsl.utils import RepresentationMixin


class Launcher(RepresentationMixin, _SprigLauncher, metaclass=ABCMeta):
    """Wraps a block's command for the machine it starts on. ``debug`` makes the wrapped script
    echo what it finds and starts."""

    def __init__(self, debug: bool = True) -> None:
        self.debug = debug

    @abstractmethod
    def __call__(self, command: str, tasks_per_node: int, nodes_per_block: int, script_dir: str = "") -> str:
        """The shell text that starts ``command`` ``tasks_per_node * nodes_per_block`` times;
        ``script_dir`` is where launchers that write a script file put it."""


__all__ = ["Launcher"]
