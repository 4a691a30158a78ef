"""The Qt interface: the only package that imports PySide6."""

from ._pyside_guard import guard_singletons

# Before any Qt object exists: PySide6 6.12 over-releases None/True on Python 3.11.
guard_singletons()
