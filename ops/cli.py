"""The ``regledger`` command line. cli.md is its stable contract; this module is the edge
that turns expected failures into one clear line and an exit code, never a traceback."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import NoReturn

import structlog
import typer

from domain.errors import (
    InputUnreadable,
    InvalidRequest,
    NotFound,
    RegledgerError,
    StoreCorrupted,
    StoreUnavailable,
)
from ops.commands import (
    api,
    audit,
    cases,
    core,
    demo,
    evidence,
    notify,
    obligations,
    officer,
    pack,
    quarantine,
    replay,
    report,
    simulate,
    status,
    stress,
    supervise,
    transfer,
    verify,
)
from ops.commands.core import DATABASE_ERRORS, first_line
from ops.logging import configure_logging
from ops.options import EXIT_UNREADABLE
from ops.runtime import tune_gc
from ops.settings import load_settings
from projections.explain import citations

app = typer.Typer(
    name="regledger",
    help="Event-sourced regulatory ledger and compliance monitor for SFC-licensed VA firms.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
log = structlog.get_logger("regledger.cli")

# Every command, in the order ``regledger --help`` lists them: typer lists the commands first,
# then the groups, each in the order added. A group is a sub-app of its module, added here
# (GROUPS) or by its module's ``register`` beside the module's commands (token, case, keys,
# report); a module's ``register(app)`` adds its commands to ``app``.
GROUPS: tuple[tuple[str, typer.Typer], ...] = (("quarantine", quarantine.app),)
COMMANDS: tuple[Callable[[typer.Typer], None], ...] = (
    core.register,  # ingest, findings, check, monitor, migrate: cli.md's contract
    api.register,  # serve; token create, list, revoke
    audit.register,  # audit, state, explain
    cases.register,  # case acknowledge (ack), assign, comment, resolve, reopen, approve, reject, escalate, group, show
    demo.register,  # demo
    evidence.register,  # digest, prove, verify-proof; keys generate
    notify.register,  # notify
    obligations.register,  # obligations
    officer.register,  # rules, client
    pack.register,  # evidence
    replay.register,  # replay
    report.register,  # report nightly
    simulate.register,  # simulate
    status.register,  # status
    stress.register,  # stress
    supervise.register,  # supervise publish, digest, subscribe, run
    transfer.register,  # export, import, rebuild
    verify.register,  # verify
)
for name, group in GROUPS:
    app.add_typer(group, name=name)
for register in COMMANDS:
    register(app)


# --- the edge -------------------------------------------------------------------------------
def main() -> None:
    settings = load_settings()
    configure_logging(settings.log_format, settings.log_level)
    tune_gc()
    try:
        citations.install(settings.citations)
        code = app(standalone_mode=False)
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except typer.Abort:
        fail_exit("aborted", 130)
    except typer.TyperException as e:  # usage errors: the parser's own message, exit code 2
        show = getattr(e, "show", None)
        if show is not None:
            show()
        else:
            print(f"regledger: {e}", file=sys.stderr)
        sys.exit(getattr(e, "exit_code", EXIT_UNREADABLE))
    except (StoreUnavailable, InputUnreadable, StoreCorrupted) as e:
        fail_exit(str(e), EXIT_UNREADABLE)
    except (InvalidRequest, NotFound) as e:
        fail_exit(str(e), EXIT_UNREADABLE)
    except RegledgerError as e:
        fail_exit(str(e), EXIT_UNREADABLE)
    except DATABASE_ERRORS as e:
        fail_exit(f"database error: {first_line(e)}", EXIT_UNREADABLE)
    except KeyboardInterrupt:
        fail_exit("interrupted", 130)
    except Exception as e:  # the last line of defence: no traceback reaches a user
        if settings.debug:
            raise
        log.error("internal_error", error=repr(e))
        fail_exit(f"internal error: {e!r} (set REGLEDGER_DEBUG=1 for details)", 70)
    sys.exit(code if isinstance(code, int) else 0)


def fail_exit(message: str, code: int) -> NoReturn:
    print(f"regledger: {message}", file=sys.stderr)
    sys.exit(code)
