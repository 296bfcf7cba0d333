"""Parsl's ``parsl.dataflow.dependency_resolvers``: how an app's arguments name its dependencies.

A :class:`DependencyResolver` is two functions: ``traverse_to_gather(argument)`` lists the futures
the task must wait for, and ``traverse_to_unwrap(argument)`` gives the value the app receives once
they are done. :data:`SHALLOW_DEPENDENCY_RESOLVER` sees only a future passed directly;
:data:`DEEP_DEPENDENCY_RESOLVER` also looks inside lists, tuples, sets and dicts (keys and values).

Sprig's engine has one built-in rule, close to the deep one: futures are found directly and inside
lists, tuples and dict values (not sets, not dict keys). ``Config(dependency_resolver=...)`` is
accepted (with a warning, see :mod:`sprig.config`); these objects work on their own too.
"""

from __future__ import annotations

from concurrent.futures import Future

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from typing import Any


class DependencyResolver:
    """A pair of functions: ``traverse_to_gather`` (argument → futures to wait for) and
    ``traverse_to_unwrap`` (argument → the value passed to the app, the futures being done)."""

    def __init__(self, traverse_to_gather: Callable[[object], Sequence[Future]],
                 traverse_to_unwrap: Callable[[object], object]) -> None:
        self.traverse_to_gather = traverse_to_gather
        self.traverse_to_unwrap = traverse_to_unwrap

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DependencyResolver):
            return NotImplemented
        return (self.traverse_to_gather, self.traverse_to_unwrap) == (other.traverse_to_gather,
                                                                      other.traverse_to_unwrap)

    def __hash__(self) -> int:
        return hash((self.traverse_to_gather, self.traverse_to_unwrap))

    def __repr__(self) -> str:
        return (f"DependencyResolver(traverse_to_gather={self.traverse_to_gather!r}, "
                f"traverse_to_unwrap={self.traverse_to_unwrap!r})")


def _value_of(future: Future) -> Any:
    if not future.done():
        raise ValueError(f"{future!r} is not done yet: gather and wait for its dependencies before unwrapping")
    return future.result()


def shallow_traverse_to_gather(argument: object) -> list[Future]:
    """``[argument]`` if it is a future, else ``[]``."""
    return [argument] if isinstance(argument, Future) else []


def shallow_traverse_to_unwrap(argument: object) -> object:
    """The value of ``argument`` if it is a (done) future, else ``argument`` itself."""
    return _value_of(argument) if isinstance(argument, Future) else argument


def deep_traverse_to_gather(argument: object) -> list[Future]:
    """Every future in ``argument``: itself, or anywhere inside lists, tuples, sets and dicts."""
    found: list[Future] = []
    pending = [argument]
    while pending:  # a stack, not recursion: deep nesting must not overflow
        value = pending.pop()
        if isinstance(value, Future):
            found.append(value)
        elif isinstance(value, (list, tuple, set)):
            pending.extend(reversed(list(value)))
        elif isinstance(value, dict):
            for key, item in reversed(list(value.items())):
                pending.extend((item, key))
    return found


def deep_traverse_to_unwrap(argument: object) -> object:
    """``argument`` with every future (inside lists, tuples, sets and dicts too) replaced by its value;
    containers are rebuilt with their own type (named tuples included)."""
    if isinstance(argument, Future):
        return _value_of(argument)
    if isinstance(argument, (list, tuple, set)):
        items = [deep_traverse_to_unwrap(item) for item in argument]
        if isinstance(argument, tuple) and hasattr(argument, "_fields"):  # a named tuple takes its fields one by one
            return type(argument)(*items)
        return type(argument)(items)
    if isinstance(argument, dict):
        return {deep_traverse_to_unwrap(key): deep_traverse_to_unwrap(item) for key, item in argument.items()}
    return argument


#: Futures directly and inside lists, tuples, sets and dicts.
DEEP_DEPENDENCY_RESOLVER = DependencyResolver(deep_traverse_to_gather, deep_traverse_to_unwrap)

#: Futures passed directly only (Parsl's default).
SHALLOW_DEPENDENCY_RESOLVER = DependencyResolver(shallow_traverse_to_gather, shallow_traverse_to_unwrap)

__all__ = ["DependencyResolver", "DEEP_DEPENDENCY_RESOLVER", "SHALLOW_DEPENDENCY_RESOLVER",
           "deep_traverse_to_gather", "deep_traverse_to_unwrap", "shallow_traverse_to_gather",
           "shallow_traverse_to_unwrap"]
