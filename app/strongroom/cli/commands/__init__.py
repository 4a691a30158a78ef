"""The sub-commands, one module per command group (the sections of docs/CLI.md):

    vault      init, passwd, recover, check, backup, info, unlock, lock
    files      add, ls, find, mkdir, mv, rm, get, cat
    history    log, verify-log, retention
    contacts   id, contacts
    shares     share, send-update, shares, revoke, access
    groups     groups
    exchange   receive, pending, sync, exchange, quarantine, receipts (and ls --shared)
    keeping    versions, restore, versions-policy, trash
    edit       edit

Each module declares its commands in `COMMANDS`, a `common.CommandGroup` of
`common.Command` (name, help, options, handler); `strongroom.cli.args` builds the parser
from them. The modules import only the standard library and the CLI's own light modules at
import time; the vault is imported inside the handlers, so building the parser (for
`--help`, or to find the command to run) stays fast.

Names that come from other people (in contact cards, file names inside shares, sender and
member names) are untrusted: every command shows them through `output.safe`, so a control
or bidi character can never disguise what is printed.
"""
