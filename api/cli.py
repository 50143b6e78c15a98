"""The `fieldvisit` command: serve, plan, work on queued plans, migrate, seed the demo, export the OpenAPI document,
import cases, write a case's dossier, verify the audit trail and the stored evidence, build road data."""

import difflib
import signal
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Annotated, Any, NoReturn
from uuid import UUID

import typer
import uvicorn
import yaml
from alembic.config import Config
from rich.console import Console
from sqlalchemy import select
from sqlalchemy.orm import Session

from alembic import command
from api.audit.chain import verify
from api.config import Settings
from api.db import SpatialBackendMissing, check_spatial_backend, make_engine
from api.jobs.declared import PLANNING
from api.jobs.worker import JobNotSetUp, run_jobs
from api.models.cases import DebtCase
from api.models.traffic import CalibrationSource
from api.problems import Problem, ValidationFailed
from api.reports.dossier import dossier_of, render_pdf
from api.roads.build import RoadsRefused
from api.roads.store import PROFILES
from api.roads.travel import travel_provider
from api.sessions import sessions_of
from api.sheets.printing import SheetFontMissing
from api.telemetry import log_config
from api.terminal.addresses import geocode_in_terminal, precheck_in_terminal
from api.terminal.planning import PlanFailed, find_branch, plan_in_terminal
from api.terminal.roads import build_in_terminal, calibrate_in_terminal, reprice_in_terminal
from api.tracks.service import purge_expired
from api.tracks.watch import watch_tracks
from api.traffic.amap import configured_driving
from api.visit_evidence.service import StoreFault, verify_store
from api.visit_evidence.store import open_store
from evidence.storage import StorageError
from routing.matrix import TravelMode

ROOT = Path(__file__).resolve().parent.parent

cli = typer.Typer(help=__doc__, no_args_is_help=True, add_completion=False)
db_cli = typer.Typer(help="Database schema migrations (Alembic).", no_args_is_help=True)
demo_cli = typer.Typer(help="Demo data.", no_args_is_help=True)
openapi_cli = typer.Typer(help="The OpenAPI document.", no_args_is_help=True)
import_cli = typer.Typer(help="Bulk imports.", no_args_is_help=True)
cli.add_typer(db_cli, name="db")
cli.add_typer(demo_cli, name="demo")
cli.add_typer(openapi_cli, name="openapi")
cli.add_typer(import_cli, name="import")
audit_cli = typer.Typer(help="The audit trail.", no_args_is_help=True)
cli.add_typer(audit_cli, name="audit")
evidence_cli = typer.Typer(help="Stored evidence.", no_args_is_help=True)
cli.add_typer(evidence_cli, name="evidence")
addresses_cli = typer.Typer(help="Addresses: geocoding and the evening pre-check.", no_args_is_help=True)
cli.add_typer(addresses_cli, name="addresses")
case_cli = typer.Typer(help="Debt cases.", no_args_is_help=True)
cli.add_typer(case_cli, name="case")
tracks_cli = typer.Typer(help="Agents' on-duty tracks.", no_args_is_help=True)
cli.add_typer(tracks_cli, name="tracks")
roads_cli = typer.Typer(help="The branches' road data, which planning travels on.", no_args_is_help=True)
cli.add_typer(roads_cli, name="roads")


def _fail(message: str) -> NoReturn:
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(1)


def _checked_settings() -> Settings:
    settings = Settings()
    try:
        check_spatial_backend(make_engine(settings.database_url))
    except SpatialBackendMissing as exc:
        _fail(str(exc))
    return settings


def _alembic(settings: Settings) -> Config:
    config = Config(str(ROOT / "alembic.ini"))
    config.attributes["database_url"] = settings.database_url
    return config


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to listen on (default: FIELDVISIT_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default: FIELDVISIT_PORT).")] = None,
    workers: Annotated[int, typer.Option(min=1, help="Server processes sharing the port.")] = 1,
) -> None:
    """Serve the API (docs at /docs), in one process or in `--workers` of them. Every process runs the background
    jobs FIELDVISIT_SERVER_JOBS names (all by default); each job runs in one process at a time, under its lease."""
    settings = _checked_settings()
    uvicorn.run(
        "api.main:app",
        host=host or settings.host,
        port=port or settings.port,
        workers=workers,
        proxy_headers=False,  # the app believes forwarded headers from FIELDVISIT_TRUSTED_PROXIES only
        log_config=log_config(),
        access_log=False,  # fieldvisit.access writes one line a request, with its route and request id
        timeout_worker_healthcheck=30,  # a busy or slow-starting process is not killed for missing a 5 s ping
    )


@cli.command()
def plan(
    branch: Annotated[str | None, typer.Option(help="Branch name or id (default: the only branch).")] = None,
    work_date: Annotated[
        datetime | None, typer.Option("--date", formats=["%Y-%m-%d"], help="Day to plan (default: tomorrow).")
    ] = None,
    publish: Annotated[bool, typer.Option(help="Publish the sheets once planned.")] = False,
    as_user: Annotated[
        str | None, typer.Option("--as", help="Supervisor or admin planning (default: the branch's first supervisor).")
    ] = None,
    time_limit: Annotated[
        int | None, typer.Option(help="Solver seconds (default: FIELDVISIT_PLANNING__TIME_LIMIT_S).")
    ] = None,
) -> None:
    """Plan a branch's day in this process, with a progress bar, and print each team's sheet in brief."""
    settings = _checked_settings()
    if time_limit is not None:
        settings = settings.model_copy(
            update={"planning": settings.planning.model_copy(update={"time_limit_s": time_limit})}
        )
    sessions = sessions_of(make_engine(settings.database_url))
    day = work_date.date() if work_date else None
    try:
        plan_in_terminal(settings, sessions, branch, day, as_user, publish, Console())
    except (PlanFailed, Problem) as failure:
        _fail(f"{getattr(failure, 'title', 'Planning failed')}: {failure}")


@cli.command()
def worker(
    job: Annotated[
        list[str] | None,
        typer.Option(
            help="A background job to run (repeat it for several): planning (the default), webhooks, "
            "track-watch, geocoding, tracks-purge, evidence-sweep."
        ),
    ] = None,
    processes: Annotated[int, typer.Option(min=1, help="Worker processes to start, each running the jobs.")] = 1,
    burst: Annotated[
        bool, typer.Option(help="Stop once done: the planning queue empty, one round of each other job.")
    ] = False,
) -> None:
    """Run background jobs outside the server, on any machine (planning needs FIELDVISIT_REDIS_URL); each job runs
    in one process at a time, whichever runs it, except planning, whose runs are shared out."""
    settings = _checked_settings()
    names = job or [PLANNING]
    if processes > 1:
        command = [sys.executable, "-m", "api.cli", "worker", *(f"--job={name}" for name in names)]
        workers = [subprocess.Popen([*command, *(["--burst"] if burst else [])]) for _ in range(processes)]

        def stop_workers(*_: object) -> None:  # each stops cleanly, leaving its work to the others
            for each in workers:
                each.terminate()

        signal.signal(signal.SIGTERM, stop_workers)
        try:
            codes = [each.wait() for each in workers]
        finally:
            for each in workers:
                each.terminate()
        raise typer.Exit(max(codes))
    try:
        run_jobs(settings, names, burst=burst)
    except JobNotSetUp as error:
        _fail(str(error))


@db_cli.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="Target revision.")] = "head") -> None:
    """Migrate the database up (creates the schema on an empty database)."""
    settings = Settings()
    try:
        command.upgrade(_alembic(settings), revision)
    except SpatialBackendMissing as exc:
        _fail(str(exc))
    typer.echo(f"database at {revision}: {settings.database_url.split('@')[-1]}")


@db_cli.command("downgrade")
def db_downgrade(
    revision: Annotated[str, typer.Argument(help="Target revision; `base` drops everything.")] = "-1",
) -> None:
    """Migrate the database down."""
    settings = Settings()
    command.downgrade(_alembic(settings), revision)
    typer.echo(f"database at {revision}")


@demo_cli.command("seed")
def demo_seed() -> None:
    """Create the Shanghai demo branch, its people, tomorrow's teams, cases and visit requests (once)."""
    from api.demo import DemoUsernamesTaken, seed_demo

    settings = _checked_settings()
    with sessions_of(make_engine(settings.database_url))() as session:
        try:
            seed = seed_demo(session)
        except DemoUsernamesTaken as exc:
            _fail(str(exc))
        session.commit()
    typer.echo(("Seeded" if seed.created else "Already seeded:") + f" {seed.branch_name} ({seed.timezone})")
    typer.echo(f"Work date: {seed.work_date} (teams and visit requests; the branch's tomorrow when seeded)")
    typer.echo(f"Demo logins (password for all: {seed.password}):")
    for login in seed.logins:
        team = f"  {login.team}" if login.team else ""
        typer.echo(f"  {login.username:<12} {login.role.value:<16}{team}")


@cache  # the same for the life of the process
def _openapi_yaml() -> str:
    from api.main import create_app

    document = create_app(Settings()).openapi()
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=120)


@openapi_cli.command("export")
def openapi_export(
    check: Annotated[bool, typer.Option("--check", help="Only compare; exit 1 when the file differs.")] = False,
    output: Annotated[Path, typer.Option(help="Where the document lives.")] = ROOT / "openapi.yaml",
) -> None:
    """Write the OpenAPI document generated from the app (or check that the file matches it)."""
    generated = _openapi_yaml()
    if not check:
        output.write_text(generated, encoding="utf-8")
        typer.echo(f"wrote {output}")
        return
    current = output.read_text(encoding="utf-8") if output.exists() else ""
    if current != generated:
        diff = difflib.unified_diff(current.splitlines(), generated.splitlines(), str(output), "generated", lineterm="")
        typer.echo("\n".join(list(diff)[:80]), err=True)
        _fail(f"{output} is out of date: run `fieldvisit openapi export`.")
    typer.echo(f"{output} is up to date")


# what every `fieldvisit import` command takes
ImportFile = Annotated[
    Path,
    typer.Argument(
        exists=True, dir_okay=False, readable=True, help="CSV file (UTF-8 or GB18030/GBK) or .xlsx workbook."
    ),
]
ImportingUser = Annotated[str, typer.Option("--as", help="Username of the supervisor or admin importing.")]
ImportBranch = Annotated[UUID | None, typer.Option(help="Target branch (admins; others import into their own).")]


@import_cli.command("cases")
def import_cases(
    file: ImportFile,
    as_user: ImportingUser,
    branch_id: ImportBranch = None,
) -> None:
    """Import cases with their contacts, addresses and visit requests: all rows or none."""
    from api.addresses.jobs import ask_for_pass
    from api.imports.cases import import_cases as run_import

    def geocode_later(session: Session, settings: Settings, summary: Any) -> None:
        if settings.geocoding.on and summary.addresses_without_point:
            ask_for_pass(session, summary.branch_id)  # a running server geocodes them

    _import(file, as_user, branch_id, run_import, geocode_later)


@import_cli.command("payments")
def import_payments(
    file: ImportFile,
    as_user: ImportingUser,
    branch_id: ImportBranch = None,
) -> None:
    """Import payments from the core system (case_reference, amount, currency, paid_at, channel, reference): all
    rows or none; a reference already recorded for the same payment is skipped. The cases' promises are settled."""
    from api.imports.payments import import_payments as run_import

    _import(file, as_user, branch_id, run_import)


def _import(
    file: Path,
    as_user: str,
    branch_id: UUID | None,
    run: Callable[[Session, Any, UUID | None, Any], Any],
    after: Callable[[Session, Settings, Any], None] | None = None,
) -> None:
    """Read an import's file, run it as the supervisor or admin named, all or none, and print what it did."""
    from api.imports.case_file import CSV_MEDIA_TYPE, XLSX_MEDIA_TYPE, read_case_file
    from api.models.users import Role, User

    settings = _checked_settings()
    media_type = XLSX_MEDIA_TYPE if file.suffix.lower() == ".xlsx" else CSV_MEDIA_TYPE
    try:
        rows = read_case_file(file.read_bytes(), media_type)
    except Problem as problem:
        _fail_with(problem)
    with sessions_of(make_engine(settings.database_url))() as session:
        actor = session.scalar(select(User).where(User.username == as_user, User.active.is_(True)))
        if actor is None or actor.role not in (Role.SUPERVISOR, Role.ADMIN):
            _fail(f"No active supervisor or admin named {as_user!r}.")
        try:
            summary = run(session, actor, branch_id, rows)
        except Problem as problem:
            session.rollback()
            _fail_with(problem)
        if after is not None:
            after(session, settings, summary)
        session.commit()
    typer.echo(f"imported {summary.model_dump(mode='json')}")


def _fail_with(problem: Problem) -> NoReturn:
    """Print a refused import's problem and each error it lists, then exit 1."""
    typer.secho(f"{problem.title}: {problem.detail or ''}", fg=typer.colors.RED, err=True)
    for error in problem.extensions.get("errors", []):
        row, column = error.get("row"), error.get("column")
        where = f"row {row}, {column}" if row else f"header, {column}" if column else "file"
        typer.echo(f"  {where}: {error.get('detail')}", err=True)
    raise typer.Exit(1) from None


@audit_cli.command("verify")
def audit_verify() -> None:
    """Recompute the audit trail's SHA-256 chain; report the first row that does not hold (exit 1)."""
    settings = _checked_settings()
    engine = make_engine(settings.database_url)
    with engine.connect() as connection:
        verdict = verify(connection)
    engine.dispose()
    if verdict.reason:
        where = f"event #{verdict.broken_seq}" if verdict.broken_seq is not None else "the end of the chain"
        _fail(f"audit trail broken at {where} ({verdict.events} events read): {verdict.reason}")
    typer.echo(f"audit trail intact: {verdict.events} events")


@evidence_cli.command("verify")
def evidence_verify() -> None:
    """Re-hash every stored recording, photo and document; report each one missing or changed (exit 1)."""
    settings = _checked_settings()
    engine = make_engine(settings.database_url)
    checked = 0
    faults: list[StoreFault] = []
    with sessions_of(engine)() as session:
        for fault in verify_store(session, open_store(settings)):
            checked += 1
            if fault is not None:
                faults.append(fault)
                typer.secho(f"evidence {fault.item_id} ({fault.key}): {fault.problem}", fg=typer.colors.RED, err=True)
    engine.dispose()
    if faults:
        _fail(f"{len(faults)} of {checked} stored items missing or changed")
    typer.echo(f"evidence intact: {checked} items re-hashed")


@evidence_cli.command("sweep")
def evidence_sweep(
    idle_days: Annotated[
        float, typer.Option(min=1, help="Remove uploads nobody has continued for this many days.")
    ] = 7,
) -> None:
    """Free the disk from uploads to the local store that phones gave up on: their items stay declared, and an
    upload of one starts again from byte 0. Accepted or rejected evidence is never touched."""
    try:
        removed = open_store(Settings()).sweep_uploads(idle_days * 86400)
    except StorageError as error:
        _fail(str(error))
    for name, size in removed:
        typer.echo(f"removed {name}: {size} bytes")
    typer.echo(f"{len(removed)} unfinished uploads removed, {sum(size for _, size in removed)} bytes freed")


@addresses_cli.command("geocode")
def addresses_geocode(
    branch: Annotated[str | None, typer.Option(help="Branch name or id (default: every branch).")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Geocode at most this many addresses.")] = None,
) -> None:
    """Geocode the addresses that have no point, with the geocoders set (FIELDVISIT_GEOCODING__*)."""
    settings = _checked_settings()
    try:
        geocode_in_terminal(settings, sessions_of(make_engine(settings.database_url)), branch, limit, Console())
    except PlanFailed as failure:
        _fail(str(failure))


@addresses_cli.command("precheck")
def addresses_precheck(
    branch: Annotated[str | None, typer.Option(help="Branch name or id (default: the only branch).")] = None,
    work_date: Annotated[
        datetime | None, typer.Option("--date", formats=["%Y-%m-%d"], help="Day to check (default: tomorrow).")
    ] = None,
) -> None:
    """Check every address due on a day; each problem becomes a report in the supervisor's invalid-address queue."""
    settings = _checked_settings()
    sessions = sessions_of(make_engine(settings.database_url))
    try:
        travel = travel_provider(settings.planning)
        precheck_in_terminal(sessions, travel, branch, work_date.date() if work_date else None, Console())
    except PlanFailed as failure:
        _fail(str(failure))


@roads_cli.command("build")
def roads_build(
    extract: Annotated[
        Path, typer.Argument(exists=True, dir_okay=False, help="An OpenStreetMap extract of the city (.osm.pbf).")
    ],
    profile: Annotated[
        str | None,
        typer.Option(help="car, bicycle or foot (default: the travel mode's: driving, cycling, walking)."),
    ] = None,
    branch: Annotated[str | None, typer.Option(help="Branch name or id (default: the only branch).")] = None,
    max_outside: Annotated[
        float,
        typer.Option(min=0, max=100, help="Percent of the branch's located addresses that may lie off the roads."),
    ] = 1.0,
) -> None:
    """Build a branch's road data from an OpenStreetMap extract (OSRM, under the var folder): refused if the
    extract does not cover the branch's office and addresses; the same extract again changes nothing."""
    settings = _checked_settings()
    profile = profile or TravelMode(settings.planning.travel_mode).road_profile or ""
    if not profile:
        _fail(f"The travel mode {settings.planning.travel_mode} has no road profile: name one with --profile.")
    if profile not in PROFILES:
        _fail(f"--profile must be one of {', '.join(PROFILES)}, got {profile!r}")
    sessions = sessions_of(make_engine(settings.database_url))
    try:
        console = Console(soft_wrap=True)
        build_in_terminal(settings.planning, sessions, extract, branch, profile, max_outside / 100, console)
    except (PlanFailed, RoadsRefused) as failure:
        _fail(f"Road data not built: {failure}")


@roads_cli.command("calibrate")
def roads_calibrate(
    branch: Annotated[str | None, typer.Option(help="Branch name or id (default: the only branch).")] = None,
    since: Annotated[
        datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="First work date whose legs count (default: 28 days ago)."),
    ] = None,
    until: Annotated[
        datetime | None, typer.Option(formats=["%Y-%m-%d"], help="Last work date whose legs count (default: today).")
    ] = None,
    apply: Annotated[
        bool, typer.Option(help="Put the factors in force if they do better on the held-out legs.")
    ] = False,
    source: Annotated[
        CalibrationSource,
        typer.Option(help="tracks: legs the teams drove; amap: legs AMap priced (fieldvisit roads reprice)."),
    ] = CalibrationSource.TRACKS,
) -> None:
    """Learn a branch's traffic by the hour from the legs its teams drove between visits (their tracks) against
    the road engine, and print each hour's factor and the error on every fifth leg, held out."""
    settings = _checked_settings()
    sessions = sessions_of(make_engine(settings.database_url))
    try:
        calibrate_in_terminal(
            settings.planning,
            sessions,
            branch,
            since.date() if since else None,
            until.date() if until else None,
            apply,
            source,
            Console(soft_wrap=True),
        )
    except (PlanFailed, ValidationFailed) as failure:
        _fail(f"Not calibrated: {failure.detail if isinstance(failure, ValidationFailed) else failure}")


@roads_cli.command("reprice")
def roads_reprice(
    branch: Annotated[str | None, typer.Option(help="Branch name or id (default: the only branch).")] = None,
    work_date: Annotated[
        datetime | None, typer.Option("--date", formats=["%Y-%m-%d"], help="Day of the sheets (default: today).")
    ] = None,
    budget: Annotated[
        int | None,
        typer.Option(min=1, help="Requests it may make (default FIELDVISIT_GEOCODING__AMAP_REPRICE_BUDGET)."),
    ] = None,
) -> None:
    """Price the legs of a day's published sheets again with AMap's driving distance, in this moment's traffic,
    beside the road engine's seconds: run it through the day to learn the hours' traffic (`roads calibrate --source
    amap`). Needs FIELDVISIT_GEOCODING__AMAP_KEY."""
    settings = _checked_settings()
    sessions = sessions_of(make_engine(settings.database_url))
    driving = configured_driving(settings.geocoding, sessions)
    if driving is None:
        _fail("AMap has no key: set FIELDVISIT_GEOCODING__AMAP_KEY.")
    try:
        with driving:
            reprice_in_terminal(
                settings,
                sessions,
                driving,
                branch,
                work_date.date() if work_date else None,
                budget or settings.geocoding.amap_reprice_budget,
                Console(soft_wrap=True),
            )
    except PlanFailed as failure:
        _fail(str(failure))


@case_cli.command("dossier")
def case_dossier(
    reference: Annotated[str, typer.Argument(help="The case's reference.")],
    out: Annotated[
        Path, typer.Option(file_okay=False, help="Directory to write <reference>-dossier.json and .pdf to.")
    ],
    branch: Annotated[str | None, typer.Option(help="Branch name or id (when branches share the reference).")] = None,
) -> None:
    """Write a case's dossier (every record of its field collection, citing the audit chain) as JSON and PDF, and
    verify the chain it cites; the read is audited as the system's."""
    settings = _checked_settings()
    engine = make_engine(settings.database_url)
    with sessions_of(engine)() as session:
        query = select(DebtCase).where(DebtCase.reference == reference)
        if branch is not None:
            try:
                query = query.where(DebtCase.branch_id == find_branch(session, branch).id)
            except PlanFailed as failure:
                _fail(str(failure))
        cases = session.scalars(query.limit(2)).all()
        if not cases:
            _fail(f"No case {reference!r}" + (f" in branch {branch!r}." if branch else "."))
        if len(cases) > 1:
            _fail(f"Several branches have a case {reference!r}: name one with --branch.")
        dossier = dossier_of(session, cases[0])
        try:
            pdf = render_pdf(dossier)
        except SheetFontMissing as error:
            _fail(str(error))
        session.commit()  # the read is on record before anything is disclosed
    with engine.connect() as connection:
        verdict = verify(connection)
    engine.dispose()
    out.mkdir(parents=True, exist_ok=True)
    stem = reference.replace("/", "_")
    written = (out / f"{stem}-dossier.json", out / f"{stem}-dossier.pdf")
    written[0].write_text(dossier.model_dump_json(indent=2), encoding="utf-8")
    written[1].write_bytes(pdf)
    typer.echo(f"{len(dossier.records)} records of case {reference}: wrote {written[0]} and {written[1]}")
    for warning in dossier.warnings:  # in the files too, on top
        typer.secho(warning.message, fg=typer.colors.RED, err=True)
    if verdict.reason:
        _fail(f"the audit trail does not hold at event #{verdict.broken_seq}: {verdict.reason}")
    if dossier.warnings:
        _fail(f"the dossier does not hold: {len(dossier.warnings)} warning(s), written on top of both files")
    typer.echo(f"audit trail intact: {verdict.events} events, the dossier citing up to #{dossier.audit_chain.head_seq}")


def main() -> None:
    cli(prog_name="fieldvisit")  # exits with the command's status


@tracks_cli.command("purge")
def tracks_purge() -> None:
    """Delete the tracks whose work date is past their branch's retention now (the `tracks-purge` job does it
    daily); each branch's purge is recorded in the audit chain with its count."""
    settings = _checked_settings()
    engine = make_engine(settings.database_url)
    with sessions_of(engine).begin() as session:
        deleted = purge_expired(session)
    engine.dispose()
    for name, fixes in deleted.items():
        typer.echo(f"{name}: {fixes} fixes purged")
    typer.echo(f"{sum(deleted.values())} fixes purged in {len(deleted)} branches")


@tracks_cli.command("watch")
def tracks_watch() -> None:
    """Look over the on-duty tracks once for gaps and detours (the server does it every
    FIELDVISIT_TRACKING__WATCH_INTERVAL_S); prints the findings published."""
    settings = _checked_settings()
    engine = make_engine(settings.database_url)
    with sessions_of(engine).begin() as session:
        found = watch_tracks(session, timedelta(minutes=settings.tracking.duty_margin_min))
        lines = [
            f"{finding.kind.value}: {finding.payload['team_name']} · {finding.payload['agent_name']}"
            for finding in found
        ]
    engine.dispose()
    for line in lines:
        typer.echo(line)
    typer.echo(f"{len(lines)} findings")


if __name__ == "__main__":  # after every command, so that `python -m api.cli` has them all
    main()
