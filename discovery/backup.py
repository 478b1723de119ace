"""Backups of the whole site: the database through pg_dump and the media folder, checked by a manifest.

A backup is a folder (not an archive, so that rsync, restic or a plain `cp -r` can move it and only changed
audio is sent again):

    manifest.json   what the backup holds, and the size and SHA-256 of every other file in it
    database.dump   pg_dump's custom format, without owners, so that it restores under any user name
    media/          a copy of MEDIA_ROOT: uploaded and downloaded audio

The manifest is written last: a folder without one is a backup that never finished. The dump and the counts
in the manifest are read from one snapshot of the database, so they agree even while the site is in use.

Audio that `ingest_folder` left where it found it (Track.audio_path) is not copied: those folders are the
listener's own files, and the backup says how many tracks play from them.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.db import connection, transaction
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.recorder import MigrationRecorder

from discovery.lib.hashing import CHUNK_BYTES
from embedding.vector_index import forget_cached_vectors
from tracks.models import Track

FORMAT = "wavelength-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
DUMP = "database.dump"
MEDIA = "media"
ARCHIVE_SUFFIXES = {".tar", ".tgz", ".gz", ".zip", ".zst"}
# Work in progress inside the backup folder and inside MEDIA_ROOT; never part of a backup.
PARTIAL_PREFIX = ".wavelength-partial-"
# Tables whose rows `migrate` itself writes: an empty, migrated database has them, and they are not data.
NOT_DATA = {"contenttypes.contenttype", "auth.permission", "django_q.schedule"}
# What a person looks for first in "the database holds ...".
FIRST = {label: i for i, label in enumerate(["auth.user", "tracks.track", "embedding.trackembedding"])}
# Restoring needs every table to itself for a moment; a web server or worker mid-request would otherwise
# make it wait without end.
LOCK_TIMEOUT = "60s"
# Connection settings that may travel from DATABASES' OPTIONS to pg_dump (libpq 16 knows them all). Secrets
# never go on a command line, where every user of the machine can read them in the process list.
LIBPQ_OPTIONS = {
    "sslmode", "sslrootcert", "sslcert", "sslkey", "sslcrl", "sslcrldir", "sslcompression", "sslsni",
    "connect_timeout", "target_session_attrs", "options", "application_name", "gssencmode", "channel_binding",
    "require_auth", "keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count", "passfile",
    "service", "krbsrvname", "tcp_user_timeout",
}

Progress = Callable[..., object]  # tqdm-like: progress(total=..., desc=...) -> object with update() and close()


class BackupError(Exception):
    """A backup or restore cannot go on; the message says why and what to do."""


class _NoProgress:
    def __init__(self, **kwargs):
        pass

    def update(self, n=1):
        pass

    def close(self):
        pass


# --- PostgreSQL's client programs ------------------------------------------------------------------------


@dataclass(frozen=True)
class ClientPrograms:
    """pg_dump, pg_restore and psql from one folder, so that the three are of one release."""

    folder: Path
    version: str
    major: int

    def __getitem__(self, name: str) -> str:
        return os.fspath(self.folder / name)


def _pgserver_folder() -> Path | None:
    try:
        import pgserver
    except ImportError:
        return None
    # pgserver keeps its binaries beside its Python code; the constant is not re-exported by every version.
    folder = getattr(pgserver, "POSTGRES_BIN_PATH", None) or Path(pgserver.__file__).parent / "pginstall" / "bin"
    return Path(folder) if (Path(folder) / "pg_dump").exists() else None


def _program_version(program: str) -> tuple[int, str] | None:
    try:
        out = subprocess.run([program, "--version"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    match = re.search(r"(\d+)(?:\.(\d+))?", out)
    return (int(match.group(1)), match.group(0)) if match else None


def _without_ssl(folder: Path) -> bool:
    """pgserver's programs are built without OpenSSL, so they cannot reach a server that demands TLS."""
    try:
        configure = subprocess.run(
            [os.fspath(folder / "pg_config"), "--configure"], capture_output=True, text=True, timeout=30
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return "--with-ssl" not in configure and "--with-openssl" not in configure


def client_programs(server_major: int, at_least: int = 0, pg_bin: Path | None = None) -> ClientPrograms:
    """pg_dump, pg_restore and psql of one PostgreSQL release that can handle this server (and this dump).

    pg_dump refuses servers newer than itself, and pg_restore archives newer than itself, so the release must
    be at least the server's major version and at least that of the pg_dump that made the dump being restored.
    Tried in order: --pg-bin, pgserver's own programs (PostgreSQL 16), those on PATH.
    """
    needed = max(server_major, at_least)
    options = connection.settings_dict.get("OPTIONS") or {}
    needs_tls = str(options.get("sslmode", "")).startswith(("require", "verify"))
    if pg_bin is not None:
        folders = [Path(pg_bin).expanduser()]
    else:
        folders = [folder for folder in [_pgserver_folder()] if folder and not (needs_tls and _without_ssl(folder))]
        on_path = shutil.which("pg_dump")
        if on_path:
            folders.append(Path(on_path).parent)
    found = []
    for folder in folders:
        program = os.fspath(folder / "pg_dump")
        version = _program_version(program)
        if version is None:
            continue
        found.append(f"{version[1]} ({program})")
        if version[0] >= needed:
            return ClientPrograms(folder, version[1], version[0])
    where = f"in {pg_bin}" if pg_bin is not None else "beside pgserver or on PATH"
    seen = f"Found only pg_dump {', '.join(found)}." if found else f"No pg_dump was found {where}."
    raise BackupError(
        f"This needs PostgreSQL's client programs (pg_dump, pg_restore, psql) of version {needed} or newer: the "
        f"database server runs PostgreSQL {server_major}"
        + (f" and the dump was made by pg_dump {at_least}" if at_least > server_major else "")
        + f". {seen} Install them (Debian/Ubuntu: `apt install postgresql-client-{needed}`) and pass their "
        f"folder with --pg-bin (e.g. /usr/lib/postgresql/{needed}/bin), or put them on PATH."
    )


def _libpq_target() -> tuple[str, dict]:
    """The database Django uses right now (during tests: the test database) as libpq conninfo and env."""
    from psycopg.conninfo import make_conninfo

    db = connection.settings_dict
    params = {"dbname": db["NAME"], "application_name": "wavelength-backup"}
    for key in ("HOST", "PORT", "USER"):
        if db.get(key):
            params[key.lower()] = str(db[key])  # HOST may be a Unix-socket folder; libpq takes both alike
    options = db.get("OPTIONS") or {}
    params.update({key: str(value) for key, value in options.items() if key in LIBPQ_OPTIONS})
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    return make_conninfo(**params), env


def _server_major() -> int:
    connection.ensure_connection()
    return connection.pg_version // 10000


# --- What the database holds -----------------------------------------------------------------------------


def row_counts() -> dict[str, int]:
    """Rows per model ("app_label.model_name") of every installed model whose table exists."""
    tables = set(connection.introspection.table_names())
    counts = {}
    for model in apps.get_models():
        if model._meta.managed and not model._meta.proxy and model._meta.db_table in tables:
            counts[model._meta.label_lower] = model._default_manager.using(connection.alias).count()
    return dict(sorted(counts.items()))


def applied_migrations() -> dict[str, list[str]]:
    recorder = MigrationRecorder(connection)
    if not recorder.has_table():
        return {}
    per_app: dict[str, list[str]] = {}
    for app, name in sorted(recorder.applied_migrations()):
        per_app.setdefault(app, []).append(name)
    return per_app


def describe_counts(counts: dict[str, int]) -> str:
    """ "3 users, 36 tracks, 36 track embeddings" for the tables that hold data."""
    parts = []
    for label, count in sorted(counts.items(), key=lambda item: (FIRST.get(item[0], len(FIRST)), item[0])):
        if count and label not in NOT_DATA:
            try:
                meta = apps.get_model(label)._meta
                noun = str(meta.verbose_name if count == 1 else meta.verbose_name_plural).lower()
            except LookupError:
                noun = label
            parts.append(f"{count} {noun}")
    return ", ".join(parts) or "nothing"


def _audio_outside_media() -> int:
    """Tracks that play a file ingest_folder left where it was: not under MEDIA_ROOT, so not in the backup."""
    if Track._meta.db_table not in connection.introspection.table_names():
        return 0  # a database not yet migrated
    return Track.objects.exclude(audio_path="").filter(audio_file="").count()


def _media_files(root: Path) -> list[Path]:
    """Every file below MEDIA_ROOT (relative, sorted), leaving out work in progress of our own."""
    if not root.is_dir():
        return []
    files = []
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if not d.startswith(PARTIAL_PREFIX))
        files.extend(Path(folder, name).relative_to(root) for name in sorted(names))
    return files


# --- Backing up ------------------------------------------------------------------------------------------


@dataclass
class BackupReport:
    path: Path
    manifest: dict
    bytes: int
    seconds: float

    def summary(self) -> str:
        files = len(self.manifest["files"]) - 1
        text = (
            f"Backed up {self.manifest['database']['name']} ({describe_counts(self.manifest['counts'])}) and "
            f"{files} media file(s) to {self.path}: {_size(self.bytes)} in {self.seconds:.1f} s."
        )
        outside = self.manifest.get("audio_outside_media", 0)
        if outside:
            text += (
                f"\n{outside} track(s) play audio from folders outside MEDIA_ROOT (ingest_folder without --copy); "
                "those files are not in the backup: back up those folders yourself."
            )
        return text


def _size(n: float) -> str:
    if n < 1000:
        return f"{int(n)} bytes"
    for unit in ("KB", "MB", "GB", "TB"):
        n /= 1000
        if n < 1000 or unit == "TB":
            return f"{n:.1f} {unit}"


def _is_backup(folder: Path) -> bool:
    try:
        return json.loads((folder / MANIFEST).read_text()).get("format") == FORMAT
    except (OSError, ValueError, AttributeError):
        return False


def _check_destination(dest: Path, force: bool) -> None:
    media = Path(settings.MEDIA_ROOT).resolve()
    if dest.exists() and not dest.is_dir():
        raise BackupError(f"{dest} is a file; a backup is a folder. Name a new or empty folder.")
    if dest.suffix.lower() in ARCHIVE_SUFFIXES and not dest.exists():
        raise BackupError(
            f"A backup is a folder, not an archive: name a folder (e.g. {dest.with_suffix('')}) and, for one "
            f"file, pack it afterwards with `tar -cf {dest.name} -C <folder> .`."
        )
    if dest == media or media in dest.parents or dest in media.parents:
        raise BackupError(
            f"{dest} overlaps MEDIA_ROOT ({media}), whose files the backup copies. Put the backup elsewhere."
        )
    present = [p for p in dest.iterdir() if not p.name.startswith(PARTIAL_PREFIX)] if dest.is_dir() else []
    if not present:
        return
    if not force:
        raise BackupError(
            f"{dest} is not empty ({len(present)} item(s)). Name a new or empty folder, or add --force to "
            "replace the backup in it."
        )
    if not _is_backup(dest):
        raise BackupError(
            f"{dest} holds files that are not a Wavelength backup; --force only replaces an earlier backup. "
            "Name a new or empty folder."
        )


def _copy_hashed(source: Path, target: Path, bar) -> dict:
    digest, size = hashlib.sha256(), 0
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(source, "rb") as reader, open(target, "wb") as writer:
        for chunk in iter(lambda: reader.read(CHUNK_BYTES), b""):
            digest.update(chunk)
            writer.write(chunk)
            size += len(chunk)
            bar.update(len(chunk))
    shutil.copystat(source, target)
    return {"bytes": size, "sha256": digest.hexdigest()}


def _hash_file(path: Path, bar=None) -> dict:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as reader:
        for chunk in iter(lambda: reader.read(CHUNK_BYTES), b""):
            digest.update(chunk)
            size += len(chunk)
            if bar is not None:
                bar.update(len(chunk))
    return {"bytes": size, "sha256": digest.hexdigest()}


def _run_pg_dump(programs: ClientPrograms, snapshot: str, target: Path, progress: Progress) -> None:
    conninfo, env = _libpq_target()
    command = [
        programs["pg_dump"], "--format=custom", "--no-owner", f"--snapshot={snapshot}", f"--file={target}",
        f"--dbname={conninfo}",
    ]
    bar = progress(desc="Database", unit="B", unit_scale=True)
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=errors)
        written = 0
        # pg_dump tells nothing of its progress; the growing file is the only sign of it.
        while process.poll() is None:
            time.sleep(0.2)
            size = target.stat().st_size if target.exists() else 0
            bar.update(size - written)
            written = size
        bar.close()
        if process.returncode != 0:
            errors.seek(0)
            raise BackupError(
                f"pg_dump could not dump the database {connection.settings_dict['NAME']}:\n"
                + errors.read().decode(errors="replace").strip()
            )


def create_backup(
    dest: Path, *, force: bool = False, pg_bin: Path | None = None, progress: Progress | None = None
) -> BackupReport:
    """Back up the database Django uses and MEDIA_ROOT into the folder `dest` (see the module's docstring)."""
    progress = progress or _NoProgress
    started = time.monotonic()
    dest = Path(dest).expanduser().resolve()
    _check_destination(dest, force)
    if connection.in_atomic_block:
        raise BackupError("A backup cannot run inside a database transaction; run it on its own.")
    programs = client_programs(_server_major(), pg_bin=pg_bin)
    media_root = Path(settings.MEDIA_ROOT)

    dest.mkdir(parents=True, exist_ok=True)
    # Built beside the old backup and moved into place at the end, so a backup that fails (disk full, server
    # gone) leaves the earlier one as it was. Inside `dest`, not next to it: `dest` may be a mount point.
    partial = dest / f"{PARTIAL_PREFIX}{os.getpid()}"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    try:
        with transaction.atomic():
            # pg_dump reads the snapshot this transaction exports, so the counts below describe exactly the
            # rows in the dump, even while listeners keep thumbing.
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                cursor.execute("SELECT pg_export_snapshot(), current_setting('server_version')")
                snapshot, server_version = cursor.fetchone()
            manifest = {
                "format": FORMAT,
                "version": FORMAT_VERSION,
                "created": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
                "database": {
                    "name": connection.settings_dict["NAME"],
                    "server_version": server_version,
                    "pg_dump_version": programs.version,
                },
                "migrations": applied_migrations(),
                "counts": row_counts(),
                "media_root": str(media_root),
                "audio_outside_media": _audio_outside_media(),
            }
            _run_pg_dump(programs, snapshot, partial / DUMP, progress)
        files = {DUMP: _hash_file(partial / DUMP)}

        media_files = _media_files(media_root)
        total = sum((media_root / name).stat().st_size for name in media_files)
        bar = progress(total=total, desc="Media", unit="B", unit_scale=True)
        (partial / MEDIA).mkdir()
        for name in media_files:
            files[f"{MEDIA}/{name.as_posix()}"] = _copy_hashed(media_root / name, partial / MEDIA / name, bar)
        bar.close()
        manifest["files"] = files
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
        _move_into_place(partial, dest)
    except OSError as error:
        shutil.rmtree(partial, ignore_errors=True)
        raise BackupError(
            f"Writing the backup to {dest} failed: {error}. Check the disk (space, permissions)."
        ) from error
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    size = sum(entry["bytes"] for entry in files.values()) + (dest / MANIFEST).stat().st_size
    return BackupReport(dest, manifest, size, time.monotonic() - started)


def _move_into_place(partial: Path, dest: Path) -> None:
    # The old manifest goes first and the new one comes last: a folder with a manifest is always whole.
    (dest / MANIFEST).unlink(missing_ok=True)
    for old in dest.iterdir():
        if old != partial:
            shutil.rmtree(old) if old.is_dir() and not old.is_symlink() else old.unlink()
    for name in (DUMP, MEDIA, MANIFEST):
        (partial / name).rename(dest / name)
    partial.rmdir()


# --- Checking a backup -----------------------------------------------------------------------------------


def _inside_media(name: str) -> bool:
    parts = Path(name).parts
    return len(parts) > 1 and parts[0] == MEDIA and ".." not in parts and not Path(name).is_absolute()


def verify_backup(src: Path, progress: Progress | None = None) -> dict:
    """The backup's manifest, once every file it lists is present with its size and SHA-256."""
    progress = progress or _NoProgress
    src = Path(src).expanduser().resolve()
    if not src.is_dir():
        hint = " If it is a packed backup, unpack it first (`tar -xf`)." if src.is_file() else ""
        raise BackupError(f"{src} is not a folder; a Wavelength backup is the folder `manage.py backup` wrote.{hint}")
    try:
        manifest = json.loads((src / MANIFEST).read_text())
    except FileNotFoundError:
        raise BackupError(
            f"{src} has no {MANIFEST}: it is not a Wavelength backup, or the backup never finished. "
            "Use another backup."
        ) from None
    except (OSError, ValueError) as error:
        raise BackupError(f"{src / MANIFEST} cannot be read ({error}); the backup is damaged.") from None
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict) or manifest.get("format") != FORMAT or not all(
        isinstance(entry, dict) for entry in files.values()
    ):
        raise BackupError(f"{src / MANIFEST} is not a Wavelength backup's manifest.")
    if manifest.get("version") != FORMAT_VERSION:
        raise BackupError(
            f"{src} is a backup of format {manifest.get('version')}, which this Wavelength does not read "
            f"(it reads format {FORMAT_VERSION}). Restore it with the Wavelength version that made it."
        )
    # Names come from a file anyone could have edited; restore writes below MEDIA_ROOT only what lies below media/.
    strays = [name for name in files if name != DUMP and not _inside_media(name)]
    if strays:
        raise BackupError(
            f"{src / MANIFEST} lists {strays[0]}, which is not a backup's file: the manifest has been tampered "
            "with. Use another backup."
        )
    if DUMP not in files:
        raise BackupError(f"{src / MANIFEST} lists no {DUMP}; the backup is incomplete.")
    if not (src / MEDIA).is_dir():
        raise BackupError(
            f"The backup in {src} is incomplete: the media copy ({MEDIA}/) is missing. Use another backup, or put "
            "the folder back from a copy of this one."
        )
    missing = [name for name in files if not (src / name).is_file()]
    if missing:
        shown = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
        raise BackupError(
            f"The backup in {src} is incomplete: {shown} is missing. Use another backup, or put the missing "
            "files back from a copy of this one."
        )
    bar = progress(total=sum(int(entry.get("bytes", 0)) for entry in files.values()), desc="Checking",
                   unit="B", unit_scale=True)
    damaged = [name for name, entry in files.items() if _hash_file(src / name, bar) != entry]
    bar.close()
    if damaged:
        shown = ", ".join(damaged[:3]) + (f" and {len(damaged) - 3} more" if len(damaged) > 3 else "")
        raise BackupError(
            f"The backup in {src} is damaged: {shown} no longer match(es) the checksum recorded when it was "
            "made. Nothing was restored; use another backup."
        )
    return manifest


# --- Restoring -------------------------------------------------------------------------------------------


@dataclass
class RestoreReport:
    manifest: dict
    replaced: str
    seconds: float
    pending_migrations: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = (
            f"Restored the backup of {self.manifest['created']} ({describe_counts(self.manifest['counts'])}, "
            f"{len(self.manifest['files']) - 1} media file(s)) in {self.seconds:.1f} s."
        )
        if self.pending_migrations:
            text += (
                f"\nThe backup predates {len(self.pending_migrations)} migration(s) of this code "
                f"({', '.join(self.pending_migrations[:3])}{'…' if len(self.pending_migrations) > 3 else ''}): "
                "run `python manage.py migrate` now."
            )
        text += "\nRestart the web server and the worker, which still hold what they had read before."
        return text


def _current_contents() -> tuple[dict[str, int], int]:
    """Rows that are data, per model, and the number of files in MEDIA_ROOT: what a restore would replace."""
    counts = {label: n for label, n in row_counts().items() if label not in NOT_DATA}
    return counts, len(_media_files(Path(settings.MEDIA_ROOT)))


def _check_migrations(manifest: dict) -> None:
    """A backup made by newer code has tables this code does not know; restoring it would break the site."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    unknown = [
        f"{app}.{name}"
        for app, names in (manifest.get("migrations") or {}).items()
        if app in loader.migrated_apps
        for name in names
        if (app, name) not in loader.disk_migrations
    ]
    if unknown:
        raise BackupError(
            f"The backup was made by a newer Wavelength: this code lacks its migration(s) {', '.join(unknown[:5])}. "
            "Update the code to the version that made the backup, then restore."
        )


def _pending_migrations() -> list[str]:
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return [f"{migration.app_label}.{migration.name}" for migration, _backwards in plan]


_TOC_TABLE = re.compile(r"^\d+; \d+ \d+ TABLE (?!DATA )(\S+) (\S+) ")
_TOC_EXTENSION = re.compile(r"^\d+; \d+ \d+ (?:EXTENSION - |COMMENT - EXTENSION )")


def _restore_list(programs: ClientPrograms, dump: Path, env: dict) -> tuple[str, set[tuple[str, str]]]:
    """The dump's table of contents without the extensions, and the tables it holds (schema, name)."""
    result = subprocess.run([programs["pg_restore"], "--list", os.fspath(dump)], capture_output=True, text=True,
                            env=env)
    if result.returncode != 0:
        raise BackupError(f"pg_restore cannot read {dump}: {result.stderr.strip()}")
    lines, tables = [], set()
    for line in result.stdout.splitlines():
        # Extensions stay as they are: dropping `vector` would need its owner (often a superuser on a managed
        # server) and would take every vector column with it. It is created up front if missing instead.
        if _TOC_EXTENSION.match(line):
            continue
        match = _TOC_TABLE.match(line)
        if match:
            tables.add((match.group(1), match.group(2)))
        lines.append(line)
    return "\n".join(lines) + "\n", tables


def _existing_tables() -> set[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT schemaname, tablename FROM pg_tables WHERE schemaname = current_schema()")
        return set(cursor.fetchall())


def _restore_preamble(dump_tables: set[tuple[str, str]]) -> str:
    """SQL run, in the restore's transaction, before pg_restore's own."""
    from psycopg import sql

    existing = sorted(_existing_tables())
    names = {table: sql.Identifier(*table).as_string(None) for table in existing}
    statements = ["BEGIN;", f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}';", "SET LOCAL client_min_messages = warning;"]
    if existing:
        # Every table at once, up front and under the timeout above: pg_restore's script turns the timeout off
        # (SET lock_timeout = 0) and would otherwise wait for ever behind a web server's open transaction.
        statements.append(f"LOCK TABLE {', '.join(names.values())} IN ACCESS EXCLUSIVE MODE;")
    # The dump's tables need their column type first; the extension itself is left out of the restore.
    statements.append("CREATE EXTENSION IF NOT EXISTS vector;")
    # Tables the dump does not hold were made by migrations newer than the backup. pg_restore --clean drops
    # only what the dump holds; left behind, these would block dropping the tables they point to and make
    # the next `migrate` fail.
    statements += [f"DROP TABLE IF EXISTS {names[table]} CASCADE;" for table in existing if table not in dump_tables]
    return "\n".join(statements) + "\n"


def _run_restore(programs: ClientPrograms, dump: Path, progress: Progress) -> None:
    conninfo, env = _libpq_target()
    toc, tables = _restore_list(programs, dump, env)
    # One transaction around all of it, committed only once pg_restore has written its last statement: a
    # restore that fails half-way, or a damaged dump that ends early, leaves the database exactly as it was.
    begin = _restore_preamble(tables)
    # Django's own connection must not hold locks on the tables about to be dropped and made again.
    connection.close()
    with (
        tempfile.NamedTemporaryFile("w", suffix=".list") as listing,
        tempfile.TemporaryFile() as restore_errors,
        tempfile.TemporaryFile() as psql_errors,
    ):
        listing.write(toc)
        listing.flush()
        # Without owners and grants: the roles they name need not exist where the backup is restored.
        restore = subprocess.Popen(
            [programs["pg_restore"], "--clean", "--if-exists", "--no-owner", "--no-privileges",
             f"--use-list={listing.name}", "--file=-", os.fspath(dump)],
            env=env, stdout=subprocess.PIPE, stderr=restore_errors,
        )
        psql = subprocess.Popen(
            [programs["psql"], "--no-psqlrc", "--quiet", "--set=ON_ERROR_STOP=1", "--file=-",
             f"--dbname={conninfo}"],
            env=env, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=psql_errors,
        )
        bar = progress(desc="Database", unit="B", unit_scale=True)
        try:
            psql.stdin.write(begin.encode())
            for chunk in iter(lambda: restore.stdout.read(CHUNK_BYTES), b""):
                psql.stdin.write(chunk)
                bar.update(len(chunk))
            if restore.wait() == 0:
                psql.stdin.write(b"COMMIT;\n")
            psql.stdin.close()  # without COMMIT, psql's session ends and PostgreSQL rolls the transaction back
        except BrokenPipeError:
            restore.kill()  # psql stopped at an error; its message below says which
        psql.wait()
        restore.wait()
        bar.close()
        if psql.returncode != 0 or restore.returncode != 0:
            psql_errors.seek(0)
            restore_errors.seek(0)
            message = (restore_errors.read() + psql_errors.read()).decode(errors="replace").strip()
            hint = ""
            if "lock timeout" in message:
                hint = " Another program holds the tables: stop the web server and the worker, then try again."
            elif "extension" in message and "vector" in message:
                hint = (
                    " The `vector` extension (pgvector) is missing and this user may not create it: ask the "
                    "server's administrator to run CREATE EXTENSION vector in this database."
                )
            raise BackupError(
                f"Restoring into {connection.settings_dict['NAME']} failed and was rolled back; the database "
                f"is as it was.{hint}\n{message}"
            )


def _replace_media(src: Path, manifest: dict, progress: Progress) -> None:
    media_root = Path(settings.MEDIA_ROOT)
    media_root.mkdir(parents=True, exist_ok=True)
    names = [name for name in manifest["files"] if name != DUMP]
    partial = media_root / f"{PARTIAL_PREFIX}{os.getpid()}"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir()
    bar = progress(total=sum(manifest["files"][name]["bytes"] for name in names), desc="Media", unit="B",
                   unit_scale=True)
    try:
        # Copied in full before anything is removed, and checked again on the way (the backup may sit on a
        # failing disk), so that MEDIA_ROOT is only ever replaced by a whole, correct copy.
        for name in names:
            if _copy_hashed(src / name, partial / Path(name).relative_to(MEDIA), bar) != manifest["files"][name]:
                raise BackupError(f"{src / name} changed while it was restored; the backup's disk may be failing.")
        bar.close()
        for old in media_root.iterdir():
            if old != partial:
                shutil.rmtree(old) if old.is_dir() and not old.is_symlink() else old.unlink()
        for new in partial.iterdir():
            new.rename(media_root / new.name)
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def restore_backup(
    src: Path, *, force: bool = False, pg_bin: Path | None = None, progress: Progress | None = None
) -> RestoreReport:
    """Replace the database Django uses and MEDIA_ROOT with the backup in `src`, after checking it whole."""
    progress = progress or _NoProgress
    started = time.monotonic()
    src = Path(src).expanduser().resolve()
    manifest = verify_backup(src, progress)
    _check_migrations(manifest)
    if connection.in_atomic_block:
        raise BackupError("A restore cannot run inside a database transaction; run it on its own.")
    counts, media_files = _current_contents()
    replaced = describe_counts(counts)
    if media_files:
        replaced = f"{replaced if replaced != 'nothing' else 'no rows'} and {media_files} file(s) in MEDIA_ROOT"
    if (any(counts.values()) or media_files) and not force:
        raise BackupError(
            f"The database {connection.settings_dict['NAME']} already holds {replaced}; restoring would replace "
            "all of it. Back it up first if it matters, then run the restore again with --force."
        )
    dump_major = int(re.match(r"\d+", str(manifest["database"].get("pg_dump_version", "0"))).group(0))
    programs = client_programs(_server_major(), at_least=dump_major, pg_bin=pg_bin)

    _run_restore(programs, src / DUMP, progress)
    _replace_media(src, manifest, progress)
    forget_cached_vectors()  # this process's cache still holds the vectors from before

    connection.close()
    after = row_counts()
    differing = [
        f"{label} {after.get(label, 0)} instead of {count}"
        for label, count in manifest["counts"].items()
        if after.get(label, 0) != count
    ]
    if differing:
        raise BackupError(
            "The restored database does not hold what the backup recorded: " + ", ".join(differing[:5])
            + ". Something wrote to it during the restore: stop the web server and the worker, then restore "
            "again with --force."
        )
    return RestoreReport(manifest, replaced, time.monotonic() - started, _pending_migrations())
