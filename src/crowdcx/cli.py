"""The ``crowdcx`` command: serve, migrate, demo and account administration."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from crowdcx.config import Settings

if TYPE_CHECKING:
    from crowdcx.kernel.db import UnitOfWork

app = typer.Typer(help="CrowdCX: crowdsourced customer service.", no_args_is_help=True)
console = Console()


def _settings() -> Settings:
    return Settings()


@app.command()
def migrate() -> None:
    """Apply database migrations up to the newest."""
    from crowdcx.kernel.migrate import upgrade

    settings = _settings()
    upgrade(settings.database_url)
    console.print(f"[green]Database is up to date[/green] ({_safe_url(settings.database_url)})")


@app.command()
def demo(
    history: Annotated[
        bool,
        typer.Option(
            "--history/--no-history",
            help="Also four weeks of past tickets (for insights, capacity plan and payouts).",
        ),
    ] = True,
) -> None:
    """Load demo brands and people (safe to run again) and print the demo sign-ins."""
    from crowdcx.demo import DEMO_PASSWORD, USERS, load
    from crowdcx.kernel.db import Database

    settings = _settings()
    db = Database(settings.database_url)
    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("Loading demo data", total=4 + len(USERS))
        load(db, settings.password_hash_profile, lambda _msg: progress.advance(task),
             history=history)  # fmt: skip
    db.dispose()
    table = Table(title=f"Demo sign-ins (password for all: {DEMO_PASSWORD})")
    for column in ("e-mail", "name", "brand", "roles"):
        table.add_column(column)
    for person in USERS:
        roles = "platform admin" if person.platform_admin else ", ".join(person.roles)
        table.add_row(person.email, person.name, person.brand or "—", roles)
    console.print(table)


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default CROWDCX_PORT or 8000).")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes (production).")] = None,
    production: Annotated[bool, typer.Option(help="Production mode: several workers.")] = False,
) -> None:
    """Serve the site and the API."""
    import uvicorn

    settings = _settings()
    prod = production or settings.env == "production"
    count = workers or settings.workers or ((os.cpu_count() or 1) if prod else 1)
    if prod:
        os.environ["CROWDCX_ENV"] = "production"
    if count > 1 and "CROWDCX_SECRET_KEY" not in os.environ:
        console.print("[yellow]CROWDCX_SECRET_KEY is not set; generated one for this run.[/yellow]")
        os.environ["CROWDCX_SECRET_KEY"] = settings.secret_key
    bind_host = host or settings.host
    bind_port = port or settings.port
    console.print(f"CrowdCX on [bold]http://{bind_host}:{bind_port}[/bold] ({count} worker(s))")
    uvicorn.run(
        "crowdcx.app:create_app_from_env",
        factory=True,
        host=bind_host,
        port=bind_port,
        workers=count,
        log_level=settings.log_level,
        access_log=not prod,
        proxy_headers=True,
        timeout_graceful_shutdown=5,
    )


@app.command("create-admin")
def create_admin(
    email: Annotated[str, typer.Option(help="E-mail address of the administrator.")],
    password: Annotated[str, typer.Option(help="Password (at least 10 characters).")],
    name: Annotated[str, typer.Option(help="Display name.")] = "Administrator",
) -> None:
    """Create a platform administrator (or promote an existing account)."""
    from sqlalchemy import select

    from crowdcx.identity import service
    from crowdcx.identity.models import User
    from crowdcx.identity.rules import normalize_email

    with _transaction() as uow:
        user = uow.session.scalar(select(User).where(User.email == normalize_email(email)))
        if user is None:
            user = service.register(
                uow,
                email=email,
                password=password,
                display_name=name,
                locale="en",
                hash_profile=_settings().password_hash_profile,
                platform_admin=True,
            )
        user.is_platform_admin = True
    console.print(f"[green]{email} is a platform administrator.[/green]")


@app.command("create-brand")
def create_brand(
    slug: Annotated[str, typer.Option(help="Address name, e.g. acme.")],
    name: Annotated[str, typer.Option(help="Brand name shown to customers.")],
    default_locale: Annotated[str, typer.Option(help="zh-Hans, zh-Hant, ru or en.")] = "en",
    locales: Annotated[str, typer.Option(help="Comma-separated enabled languages.")] = "",
    currency: Annotated[
        str, typer.Option(help="ISO 4217 code tickets are priced and paid in (fixed later).")
    ] = "USD",
    timezone: Annotated[str, typer.Option(help="IANA time zone, e.g. Asia/Shanghai.")] = "UTC",
) -> None:
    """Create a brand."""
    from crowdcx.tenancy import service

    enabled = [x.strip() for x in locales.split(",") if x.strip()] or [default_locale]
    with _transaction() as uow:
        service.create_brand(
            uow,
            slug=slug,
            name=name,
            default_locale=default_locale,
            locales=enabled,
            settings={"currency": currency, "timezone": timezone},
        )
    console.print(f"[green]Brand {slug} created.[/green]")


@app.command("create-user")
def create_user(
    email: Annotated[str, typer.Option(help="E-mail address.")],
    password: Annotated[str, typer.Option(help="Password (at least 10 characters).")],
    name: Annotated[str, typer.Option(help="Display name.")],
    locale: Annotated[str, typer.Option(help="zh-Hans, zh-Hant, ru or en.")] = "en",
    brand: Annotated[str | None, typer.Option(help="Brand slug to join.")] = None,
    roles: Annotated[str, typer.Option(help="Comma-separated roles in that brand.")] = "customer",
) -> None:
    """Create a person, optionally as a member of a brand."""
    from crowdcx.identity import service as identity
    from crowdcx.tenancy import service as tenancy

    with _transaction() as uow:
        identity.register(
            uow,
            email=email,
            password=password,
            display_name=name,
            locale=locale,
            hash_profile=_settings().password_hash_profile,
        )
        if brand:
            ctx = tenancy.access_brand(uow.session, brand, None)
            tenancy.add_member(uow, ctx, email, [r.strip() for r in roles.split(",") if r.strip()])
    console.print(f"[green]{email} created.[/green]")


@app.command("import-faq")
def import_faq(
    brand: Annotated[str, typer.Option(help="Brand slug.")],
    source: Annotated[
        str,
        typer.Argument(
            help="A FAQ CSV (question,answer,language,tags,visibility) "
            "or a folder of Markdown files with front matter."
        ),
    ],
    publish: Annotated[
        bool, typer.Option(help="Publish at once instead of leaving drafts.")
    ] = False,
    as_user: Annotated[
        str | None,
        typer.Option(
            "--as",
            help="E-mail of the importing person (default: the first platform administrator).",
        ),
    ] = None,
) -> None:
    """Import help-center articles; a bad row is reported and skipped, never half-written."""
    from pathlib import Path

    from sqlalchemy import select

    from crowdcx.identity.models import User
    from crowdcx.kernel.models import utcnow
    from crowdcx.knowledge import rules as kb_rules
    from crowdcx.knowledge import service as kb
    from crowdcx.tenancy.service import BrandContext, get_brand, roles_in

    path = Path(source)
    if not path.exists():
        console.print(f"[red]{source} does not exist.[/red]")
        raise typer.Exit(2)
    with _transaction() as uow:
        stmt = (
            select(User).where(User.email == as_user.strip().lower())
            if as_user
            else (select(User).where(User.is_platform_admin.is_(True)).order_by(User.id).limit(1))
        )
        user = uow.session.scalar(stmt)
        if user is None:
            console.print(
                "[red]No importing person: pass --as EMAIL, or create a platform administrator "
                "with `crowdcx create-admin`.[/red]"
            )
            raise typer.Exit(2)
        brand_row = get_brand(uow.session, brand)
        ctx = BrandContext(brand_row, user, roles_in(uow.session, user, brand_row.id))
        if path.is_dir():
            rows = kb.markdown_rows(path)
        else:
            decoded = kb_rules.decode_upload(path.read_bytes(), brand_row.locales)
            if decoded is None:
                console.print("[red]Save the CSV as UTF-8 and run the import again.[/red]")
                raise typer.Exit(2)
            if not decoded.encoding.startswith("utf"):
                name = kb_rules.ENCODING_NAMES[decoded.encoding]
                console.print(f"[yellow]Not UTF-8: read as {name}.[/yellow]")
            rows = kb.csv_rows(decoded.text)
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("Importing", total=len(rows))
            summary = kb.import_drafts(
                uow, ctx, rows, utcnow(), publish=publish,
                progress=lambda: progress.advance(task), commit_every=kb.IMPORT_CHUNK,
            )  # fmt: skip
        if publish and summary.imported >= BULK_IMPORT:
            from crowdcx.search import service as search

            search.index_for(uow.session).optimize()  # a bulk load: compact the index
    console.print(
        f"[green]{summary.imported} imported[/green], "
        f"{len(summary.skipped)} skipped" + (":" if summary.skipped else ".")
    )
    if summary.skipped:
        table = Table()
        for column in ("where", "why"):
            table.add_column(column)
        for problem in summary.skipped:
            table.add_row(str(problem["where"]), str(problem["reason"]))
        console.print(table)


@app.command("send-digests")
def send_digests() -> None:
    """Mail each member one digest of their unread notifications (at most one a day each).
    Run it from cron or a systemd timer, e.g. hourly; needs CROWDCX_SMTP_URL."""
    from crowdcx.kernel.db import Database
    from crowdcx.kernel.models import utcnow
    from crowdcx.notifications import service as notes

    settings = _settings()
    if not settings.smtp_url:
        console.print("[red]Set CROWDCX_SMTP_URL (smtp://host:port) to send digests.[/red]")
        raise typer.Exit(2)
    try:
        sender = notes.smtp_sender(settings.smtp_url, settings.mail_from)
    except ValueError as exc:
        console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    db = Database(settings.database_url)
    try:
        with db.sessions() as session:
            run = notes.mail_digests(session, sender, utcnow(), base_url=settings.public_url)
    except OSError as exc:
        console.print(f"[red]The mail server did not answer: {exc}[/red]")
        raise typer.Exit(1) from None
    finally:
        db.dispose()
    if run.failed:
        # One line; the log has each person's reason. They are tried again on the next run.
        ids = ", ".join(map(str, run.failed[:20])) + ("…" if len(run.failed) > 20 else "")
        console.print(
            f"[red]{run.sent} digests sent, {len(run.failed)} could not be sent "
            f"(user ids {ids}); they are tried again on the next run.[/red]",
            soft_wrap=True,
        )
        raise typer.Exit(1)
    console.print(f"[green]{run.sent} digests sent.[/green]")


@app.command("backfill-badges")
def backfill_badges(brand: Annotated[str, typer.Option(help="Brand slug.")]) -> None:
    """Grant every badge rule (defaults and the brand's own) to everyone who qualifies."""
    from crowdcx.community import engagement
    from crowdcx.kernel.models import utcnow
    from crowdcx.tenancy import service as tenancy

    with _transaction() as uow:
        ctx = tenancy.access_brand(uow.session, brand, None)
        granted = engagement.backfill_badges(uow, ctx, utcnow())
    console.print(f"[green]{granted} badges granted.[/green]")


@app.command("recompute-reputation")
def recompute_reputation(brand: Annotated[str, typer.Option(help="Brand slug.")]) -> None:
    """Rebuild a brand's running reputation totals from the points ledger, and its members'
    activity counters (what badges count) from the posts: both are the truth."""
    from crowdcx.community import activity
    from crowdcx.reputation import service as points
    from crowdcx.tenancy import service as tenancy

    started = time.perf_counter()
    with _transaction() as uow:
        ctx = tenancy.access_brand(uow.session, brand, None)
        rows = points.rebuild_totals(uow.session, ctx.brand.id)
        members = activity.rebuild(uow.session, ctx.brand.id)
    console.print(
        f"[green]{rows} ledger rows summed, activity of {members} members counted, in "
        f"{time.perf_counter() - started:.1f} s.[/green]"
    )


@app.command("rebuild-balances")
def rebuild_balances(
    brand: Annotated[str, typer.Option(help="Brand slug.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only say how many lines differ; write nothing.")
    ] = False,
) -> None:
    """Make a brand's payee balances (what the payouts statement reads) equal its ledger
    summed, the truth, and its experts' paid work (what their hourly rate reads) equal the
    ledger and the tickets: after a partial restore, or rows written past the application."""
    from crowdcx.payouts import service as payouts
    from crowdcx.tenancy import service as tenancy
    from crowdcx.tickets import service as tickets

    with _transaction() as uow:
        ctx = tenancy.access_brand(uow.session, brand, None)
        done = payouts.rebuild_balances(uow.session, ctx, dry_run=dry_run)
        work = tickets.rebuild_work(uow.session, ctx, dry_run=dry_run)
        if dry_run:
            uow.rollback()
    verb = "differ from" if dry_run else "mended to match"
    console.print(
        f"[green]{done.lines} payee lines in the ledger; {done.mended} {verb} it.[/green]"
    )
    console.print(
        f"[green]{work.lines} hourly-rate sums of paid work; {work.mended} rows {verb} the "
        "ledger and the tickets.[/green]"
    )
    if dry_run and (done.mended or work.mended):
        raise typer.Exit(1)


@app.command("take-back-hidden-points")
def take_back_hidden_points(
    brand: Annotated[str, typer.Option(help="Brand slug; every brand when left out.")] = "",
) -> None:
    """Once, after upgrading past 2026-12-05: take back the points of posts hidden before
    hiding took them back (reversal entries appended to the ledger; safe to run again)."""
    from sqlalchemy import select

    from crowdcx.community import service as community
    from crowdcx.kernel.models import utcnow
    from crowdcx.tenancy import service as tenancy
    from crowdcx.tenancy.models import Brand

    with _transaction() as uow:
        slugs = (
            [brand] if brand else list(uow.session.scalars(select(Brand.slug).order_by(Brand.id)))
        )
    posts = taken = 0
    for slug in slugs:
        with _transaction() as uow:  # one brand per transaction
            ctx = tenancy.access_brand(uow.session, slug, None)
            done = community.take_back_from_hidden_posts(uow, ctx, utcnow())
        posts, taken = posts + done[0], taken + done[1]
    console.print(f"[green]{taken} points taken back from {posts} hidden posts.[/green]")


@app.command("clean-names")
def clean_names() -> None:
    """Once, after upgrading past the fifth session: people's names and addresses, brands' and
    communities' names stored before the cleaning are cleaned as they are cleaned now (safe
    to run again). Addresses that would fold onto another account's are listed, not changed."""
    from sqlalchemy import select

    from crowdcx.community.models import CommunityRow
    from crowdcx.identity import rules as identity_rules
    from crowdcx.identity.service import clean_stored_people
    from crowdcx.kernel.text import visible
    from crowdcx.tenancy.models import Brand

    with _transaction() as uow:
        done = clean_stored_people(uow.session)
        named = 0
        rows = [*uow.session.scalars(select(Brand)), *uow.session.scalars(select(CommunityRow))]
        for row in rows:
            name = identity_rules.clean_display_name(row.name)
            if name != row.name and visible(name):
                row.name, named = name, named + 1
    console.print(
        f"[green]{done.names} names and {done.emails} e-mail addresses of people cleaned, "
        f"{named} brand and community names.[/green]"
    )
    for user_id, holder in done.clashes:
        console.print(
            f"[yellow]User {user_id}: the cleaned address is already user {holder}'s; left as "
            "it is (two accounts of one person?).[/yellow]"
        )
    for user_id in done.blank:
        console.print(f"[yellow]User {user_id}: nothing visible is left of the name.[/yellow]")


# An import of at least this many published articles compacts the search index afterwards.
BULK_IMPORT = 100


@app.command("reindex")
def reindex(
    tickets: Annotated[
        bool,
        typer.Option(
            help="Also rebuild resolved tickets' documents from the tickets, scrubbing customer"
            " data by the current rules (after an upgrade that scrubs more)."
        ),
    ] = False,
) -> None:
    """Analyse every indexed document again and rebuild the search statistics (after an
    upgrade that changes the text analysis; migrations do it for the releases that need it)."""
    from crowdcx.search import service as search

    started = time.perf_counter()
    rebuilt = 0
    if tickets:
        from sqlalchemy import select

        from crowdcx.tickets.models import TicketRow

        with _transaction() as uow:
            done = TicketRow.status.in_(("resolved", "closed"))
            ids = uow.session.scalars(select(TicketRow.id).where(done).order_by(TicketRow.id))
            ids_list = list(ids)
            for i in range(0, len(ids_list), 500):
                batch = select(TicketRow).where(TicketRow.id.in_(ids_list[i : i + 500]))
                for row in uow.session.scalars(batch).all():
                    search.sync_ticket(uow.session, row, row.status)
                    rebuilt += 1
    with _transaction() as uow:
        index = search.index_for(uow.session)
        documents = index.reanalyse()
        index.optimize()
    console.print(
        f"[green]{documents} documents analysed ({rebuilt} tickets rebuilt) in "
        f"{time.perf_counter() - started:.1f} s.[/green]"
    )


@contextmanager
def _transaction() -> Iterator[UnitOfWork]:
    """A unit of work for one CLI command; domain errors become a readable exit."""
    from crowdcx.kernel.db import Database
    from crowdcx.kernel.errors import AppError

    db = Database(_settings().database_url)
    try:
        with db.transaction() as uow:
            yield uow
    except AppError as exc:
        console.print(f"[red]{exc.detail}[/red]" + (f" ({exc.field})" if exc.field else ""))
        raise typer.Exit(2) from None
    finally:
        db.dispose()


def _safe_url(url: str) -> str:
    if "@" in url:
        scheme, _, rest = url.partition("://")
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


def main() -> None:
    app()
