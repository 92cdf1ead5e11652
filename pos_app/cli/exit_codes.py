"""The exit codes of `pos-app`, stable for scripts.

0  done
1  refused: the services said no (permission, approval, wrong password or PIN, card
   state, short balance, limit, not found, already exists, store not set up, ...)
2  invalid input or usage: a bad option or argument, an amount such as "12.345" or
   "-5", a malformed mobile, card number or rules file, missing credentials
3  `verify` found problems in the ledger; `sync push` found a fork (HQ holds a different
   history of this till)
4  `sync push`: HQ cannot be reached (the records wait on the till; try again later)
70 internal error: a bug, not something the caller did; the traceback is in the store's
   log (logs/pos-app.log under the data folder) and the message says where
141 the output's reader went away (`pos-app … | head`): the command's work is done, only
   its output was cut short (the status a shell gives a program killed by SIGPIPE)
"""

from __future__ import annotations

from pos_app.domain.errors import DomainError, InvalidInput, RulesError

OK = 0
REFUSED = 1
USAGE = 2
VERIFY_FAILED = 3
SYNC_FORK = 3  # the same meaning: the ledger's history is in question
HQ_UNREACHABLE = 4
INTERNAL_ERROR = 70  # EX_SOFTWARE in sysexits.h
BROKEN_PIPE = 141  # 128 + SIGPIPE


def exit_code_for(error: DomainError) -> int:
    """Invalid input is the caller's to fix (2); everything else is a refusal (1)."""
    return USAGE if isinstance(error, InvalidInput | RulesError) else REFUSED
