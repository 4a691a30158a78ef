"""Pure cryptographic primitives and formats over bytes and byte streams.

No database, no Qt, no file system paths beyond what a caller hands in.
"""
