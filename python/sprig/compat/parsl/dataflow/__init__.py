"""Parsl's ``parsl.dataflow``, served by Sprig."""


def __getattr__(name: str) -> object:
    if name == "memoization":
        # Imported on first use, not by `import parsl`: registering its rules imports typing
        # (functools.singledispatch does), which a script's start-up otherwise avoids.
        import importlib

        return importlib.import_module("parsl.dataflow.memoization")
    from parsl import _unsupported

    raise _unsupported.attribute_error("parsl.dataflow", name)
