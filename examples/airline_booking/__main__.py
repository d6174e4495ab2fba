"""``python -m examples.airline_booking``: book flights through the saga and show what happened.

Runs the chosen scenarios on the local engine (virtual clock by default) against moto in
process, or the AWS endpoint given, and prints for each the path taken, the result, and the
evidence read back from the tables and queues.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import textwrap
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from botocore.exceptions import BotoCoreError, ClientError

from engine.diagnostics import DefinitionError
from engine.model import StateMachine
from engine.store import ExecutionAlreadyExists, SQLiteStore, StoreError
from examples.airline_booking.environment import AirlineEnvironment, MotoMissingError
from examples.airline_booking.evidence import render_evidence
from examples.airline_booking.functions import HANDLERS
from examples.airline_booking.runner import ROLES, ScenarioRun, load_reference, run_scenario
from examples.airline_booking.scenarios import DEFAULT_SCENARIOS, SCENARIOS
from examples.airline_booking.style import Style
from examples.airline_booking.trace import error_message, render_trace
from saga.cli.resume_cmd import saga_ref

__all__ = ["main"]

_SAGA_REF = saga_ref("examples.airline_booking.saga:booking")
"""What a stored run records as its handlers: the saga (so its roles can be read back)."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m examples.airline_booking",
        description=(
            "Run the airline booking saga locally and show the path it took and the evidence "
            "that its compensations worked."
        ),
    )
    parser.add_argument(
        "--scenario",
        action="append",
        choices=[*SCENARIOS, "all"],
        metavar="NAME",
        help=(
            f"scenario to run, repeatable: {', '.join(SCENARIOS)} or all "
            f"(default: {' and '.join(DEFAULT_SCENARIOS)})"
        ),
    )
    parser.add_argument(
        "--clock",
        choices=["virtual", "real"],
        default="virtual",
        help="virtual skips retry backoffs instantly (default); real waits them out",
    )
    parser.add_argument(
        "--endpoint-url",
        metavar="URL",
        help=(
            "AWS endpoint for DynamoDB, SNS and SQS (LocalStack, moto server, ...); "
            "default: AWS_ENDPOINT_URL, else moto in process"
        ),
    )
    parser.add_argument(
        "--aws",
        action="store_true",
        help=(
            "use real AWS (boto3's credentials and region) for DynamoDB, SNS and SQS; "
            "creates the tables, topic and queues if missing"
        ),
    )
    parser.add_argument(
        "--definition",
        type=Path,
        metavar="FILE",
        help="run this ProcessBooking definition (e.g. the sample's original) instead of the saga",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed for retry jitter (default 0)")
    parser.add_argument(
        "--store",
        metavar="PATH",
        help="keep the executions in this SQLite store (for saga executions, report, console)",
    )
    return parser


def _selected(names: Sequence[str] | None) -> list[str]:
    if not names:
        return list(DEFAULT_SCENARIOS)
    if "all" in names:
        return list(SCENARIOS)
    return list(dict.fromkeys(names))


def _machine(
    env: AirlineEnvironment, definition: Path | None
) -> tuple[StateMachine, Mapping[str, Callable[..., Any]]]:
    """The machine to run and the handlers for its Lambda placeholders."""
    if definition is not None:
        return load_reference(env, definition), HANDLERS
    from examples.airline_booking.saga import booking, build_machine

    return build_machine(env.substitutions()), booking.handlers()


def _heading(title: str, style: Style) -> str:
    return style.bold(style.blue(f"━━ {title} " + "━" * max(3, 72 - len(title))))


def _result_lines(run: ScenarioRun, style: Style) -> list[str]:
    execution = run.execution
    if execution.status == "SUCCEEDED":
        output: Any = execution.output
        shown = {k: output[k] for k in ("bookingId", "payment", "bookingReference") if k in output}
        return [
            f"  {style.green(style.bold('SUCCEEDED'))}",
            *(f"  {line}" for line in json.dumps(shown, indent=2).splitlines()),
        ]
    status = style.red(style.bold(execution.status))
    error = execution.error or "(no error name)"
    cause = error_message(execution.cause) or "(no cause)"
    return [
        f"  {status}  {error}",
        *textwrap.wrap(cause, 88, initial_indent="  ", subsequent_indent="  "),
    ]


def _report(run: ScenarioRun, *, clock: str, backend: str, style: Style, out: TextIO) -> bool:
    scenario = run.prepared.scenario
    execution = run.execution
    succeeded = execution.status == "SUCCEEDED"
    elapsed = (execution.stop_posix or execution.start_posix) - execution.start_posix
    lines = [
        _heading(scenario.title, style),
        *textwrap.wrap(scenario.story, 88),
        style.dim(
            f"execution {execution.name} · {clock} clock, {elapsed:.1f}s of execution time "
            f"· AWS services: {backend}"
        ),
        "",
        style.bold("Path"),
        *render_trace(execution, machine=run.machine, roles=ROLES, style=style),
        "",
        style.bold("Result"),
        *_result_lines(run, style),
        "",
        style.bold("Evidence"),
        *render_evidence(run.evidence, succeeded=succeeded, style=style),
        "",
    ]
    out.write("\n".join(lines) + "\n")
    return all(check.ok for check in run.evidence.checks(succeeded=succeeded))


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    """Run the scenarios; exit 0 when every one left the world as it should, 1 otherwise."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.definition is not None and not args.definition.is_file():
        parser.error(f"--definition: no such file: {args.definition}")
    if args.aws and args.endpoint_url:
        parser.error("--aws and --endpoint-url exclude each other")
    out = out or sys.stdout
    style = Style.for_stream(out)
    all_ok = True
    store = None
    try:
        if args.store is not None:
            store = SQLiteStore(args.store)
        with AirlineEnvironment(endpoint_url=args.endpoint_url, real_aws=args.aws) as env:
            machine, handlers = _machine(env, args.definition)
            # Names are fixed in a fresh moto; on a shared endpoint each run gets its own.
            # A store that already holds runs gets new names too (names are unique there).
            fresh = env.embedded and (store is None or not store.executions())
            run_id = "1" if fresh else secrets.token_hex(3)
            for name in _selected(args.scenario):
                scenario = SCENARIOS[name]
                run = run_scenario(
                    scenario,
                    env,
                    machine,
                    handlers=handlers,
                    clock=args.clock,
                    seed=args.seed,
                    run_id=run_id,
                    store=store,
                    handlers_ref=_SAGA_REF if args.definition is None else None,
                    machine_name="ProcessBooking",
                )
                ok = _report(run, clock=args.clock, backend=env.backend, style=style, out=out)
                all_ok = all_ok and ok
    except MotoMissingError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except DefinitionError as exc:
        print(f"error: the definition is not usable:\n{exc}", file=sys.stderr)
        return 2
    except (BotoCoreError, ClientError) as exc:
        where = args.endpoint_url or os.environ.get("AWS_ENDPOINT_URL")
        where = where or ("real AWS" if args.aws else "moto")
        print(f"error: AWS services ({where}): {exc}", file=sys.stderr)
        return 2
    except (StoreError, ExecutionAlreadyExists) as exc:
        print(f"error: --store {args.store}: {exc}", file=sys.stderr)
        return 2
    finally:
        if store is not None:
            store.close()
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
