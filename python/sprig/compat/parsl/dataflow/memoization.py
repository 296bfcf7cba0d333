"""Parsl's ``parsl.dataflow.memoization``: :func:`id_for_memo`, served by Sprig (:mod:`sprig.memo_keys`).

It is the very function Sprig's cache keys use, so ``@id_for_memo.register(MyType)`` in a script
gives ``MyType`` a key. Parsl's memoizer classes (``Memoizer``, ``BasicMemoizer``,
``CheckpointCommand``) are not built yet: importing one raises one line saying so. Parsl's
``make_hash`` takes a task record, which Sprig does not have; :func:`sprig.memo_keys.task_key` is
what keys a call here.
"""

from sprig.memo_keys import id_for_memo

from parsl import _unsupported


def __getattr__(name: str) -> object:
    raise _unsupported.attribute_error(__name__, name)


__all__ = ["id_for_memo"]
