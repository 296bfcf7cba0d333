"""Parsl's ``parsl.dataflow.memoization``: :func:`id_for_memo`, :class:`Memoizer` and
:class:`BasicMemoizer`, served by Sprig (:mod:`sprig.memo_keys`, :mod:`sprig.memoizer`).

``id_for_memo`` is the very function Sprig's cache keys use, so ``@id_for_memo.register(MyType)``
in a script gives ``MyType`` a key. ``BasicMemoizer`` describes the app cache and checkpoints for
``Config(memoizer=...)``; the engine does the work. Parsl's ``make_hash`` takes a task record,
which Sprig does not have; :func:`sprig.memo_keys.task_key` is what keys a call here.
"""

from sprig.memo_keys import id_for_memo
from sprig.memoizer import BasicMemoizer, Memoizer

from parsl import _unsupported


def __getattr__(name: str) -> object:
    raise _unsupported.attribute_error(__name__, name)


__all__ = ["id_for_memo", "BasicMemoizer", "Memoizer"]
