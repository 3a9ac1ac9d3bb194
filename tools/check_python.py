"""Exit with a one-line error unless this interpreter can run the pinned requirements (CPython 3.11)."""
import sys

if sys.version_info[:2] != (3, 11):
    found = ".".join(map(str, sys.version_info[:3]))
    sys.exit(f"error: Python {found} found at {sys.executable}, but the pinned requirements need Python 3.11: "
             "install it, or run make PYTHON=/path/to/python3.11")
