// Users of the engine work with Python objects and errors directly: one import gives both.
@_exported import PythonBridge
