"""Pure formats: bytes in, values out, no database, no paths (``docs/FORMAT.md`` §5).

`encoding` (canonical JSON, base64, ids), `cards` (identities, contact cards,
fingerprints), `share` (the share file and its signed manifest) and `messages` (the signed
messages vaults exchange: revocations, receipts, group keys). The vault wires them to its
database; these modules never touch it.
"""
