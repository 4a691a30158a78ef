"""The vault domain: folder, database, objects, history. No Qt."""
