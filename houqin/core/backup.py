"""Backup and restore for school mode (X-12): a consistent SQLite snapshot plus the uploaded files.

An archive ``houqin-backup-YYYYmmdd-HHMMSS.tar.gz`` holds three things:

- ``db.sqlite3``: the database, copied with SQLite's online backup API through Django's own
  connection. The live database runs in WAL mode, so a plain file copy is not a backup: committed
  transactions may still sit in ``houqin.sqlite3-wal`` (not in the main file), and a copy taken
  while a checkpoint writes pages back can mix old and new pages. The backup API instead reads
  every page inside one read transaction, which in WAL mode is a consistent snapshot that does
  not block the writers of the running service.
- ``media/``: every regular file under ``MEDIA_ROOT``.
- ``manifest.json``: format version, creation time, the applied migrations, the row count of
  every table and the number and size of the media files, so that a restore can prove it is
  complete.

A restore never touches the database of the running settings: it goes into a new var directory
(``HOUQIN_VAR_DIR``), is verified there, and the operator then points the service at it.
District mode (PostgreSQL) is backed up with ``pg_dump``; these functions refuse it.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import shutil
import sqlite3
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from django.conf import settings
from django.db import connection, connections
from django.utils import timezone

FORMAT_VERSION = 1
ARCHIVE_PREFIX = "houqin-backup-"
ARCHIVE_SUFFIX = ".tar.gz"
# Retention only ever deletes files named exactly like the archives this module writes, so a
# hand-made "houqin-backup-before-upgrade.tar.gz" next to them is left alone.
ARCHIVE_RE = re.compile(r"^houqin-backup-\d{8}-\d{6}\.tar\.gz$")
DB_MEMBER = "db.sqlite3"
MANIFEST_MEMBER = "manifest.json"
MEDIA_MEMBER = "media"
RESTORED_DB_NAME = "houqin.sqlite3"  # the file name settings.py gives the database in HOUQIN_VAR_DIR


class BackupError(Exception):
    """A backup or restore that cannot be done or did not verify; the message is for the operator."""


@dataclass(frozen=True)
class BackupResult:
    """What ``create_backup`` wrote: the archive, what it contains, and the old archives it deleted."""

    path: Path
    created_at: datetime.datetime
    counts: dict[str, int]
    migrations: int
    media_files: int
    media_bytes: int
    removed: list[Path] = field(default_factory=list)


@dataclass(frozen=True)
class RestoreResult:
    """What ``restore_backup`` restored and verified against the archive's manifest."""

    var_dir: Path
    database: Path
    created_at: str
    counts: dict[str, int]
    media_files: int
    media_bytes: int


# --- helpers ----------------------------------------------------------------------------------


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _open_readonly(path: Path) -> sqlite3.Connection:
    # mode=ro: verifying a database must not change it (nor create it when the path is wrong).
    # as_uri() percent-encodes the path, so a directory name with "?" or "#" cannot inject URI
    # parameters.
    return sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)


def table_counts(db: sqlite3.Connection | str | Path) -> dict[str, int]:
    """Return ``{table: row count}`` for every table of an SQLite database except ``sqlite_*`` ones.

    ``db`` is an open ``sqlite3.Connection`` (left open) or the path of a database file, which is
    opened read-only and closed again.
    """
    conn = db if isinstance(db, sqlite3.Connection) else _open_readonly(Path(db))
    try:
        tables = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
            "ORDER BY name"
        ).fetchall()
        counts = {}
        for name, sql in tables:
            try:
                counts[name] = conn.execute(f"SELECT COUNT(*) FROM {_quote(name)}").fetchone()[0]  # noqa: S608 (quoted identifier from sqlite_master)
            except sqlite3.OperationalError:
                # A search index that keeps neither texts nor row sizes (FTS5 content='' and columnsize=0,
                # core.search_index) cannot be scanned; its shadow tables (%_data, %_idx …) are counted as any table.
                if not (sql or "").upper().startswith("CREATE VIRTUAL TABLE"):
                    raise
        return counts
    finally:
        if conn is not db:
            conn.close()


def _media_files(root: Path) -> list[Path]:
    """Regular files under ``root``, sorted; symbolic links are neither followed nor included."""
    if not root.is_dir():
        return []
    found = []
    for dirpath, _dirnames, filenames in os.walk(root, followlinks=False):
        for name in filenames:
            path = Path(dirpath) / name
            if path.is_file() and not path.is_symlink():
                found.append(path)
    return sorted(found)


def _now() -> datetime.datetime:
    """The current time; a function of its own so that tests can step the clock."""
    return timezone.now()


def archive_name(now: datetime.datetime | None = None) -> str:
    """The archive file name for ``now`` (default: the current time) in the local time zone (Asia/Shanghai)."""
    local = timezone.localtime(now or _now())
    return f"{ARCHIVE_PREFIX}{local:%Y%m%d-%H%M%S}{ARCHIVE_SUFFIX}"


def list_archives(directory: Path) -> list[Path]:
    """The backup archives in ``directory``, oldest first (the timestamped names sort by time)."""
    if not Path(directory).is_dir():
        return []
    return sorted(p for p in Path(directory).iterdir() if ARCHIVE_RE.match(p.name) and p.is_file())


# --- backup -----------------------------------------------------------------------------------


def _snapshot(dest_path: Path) -> tuple[dict[str, int], list[list[str]]]:
    """Copy the live database into ``dest_path``; return its row counts and applied migrations."""
    connection.ensure_connection()
    source = connection.connection
    if source.in_transaction:
        # backup_step() answers SQLITE_LOCKED while its own source connection holds a write
        # transaction, and Python's sqlite3 retries LOCKED forever: refuse instead of hanging.
        # (settings.py begins every transaction IMMEDIATE, i.e. as a write transaction.)
        raise BackupError(
            "The database connection is inside a transaction (atomic block); run the backup outside it."
        )
    dest = sqlite3.connect(dest_path)
    try:
        # pages=-1 (the default) copies the whole database in a single step, i.e. inside one read
        # transaction: a consistent snapshot. Copying in several steps would restart whenever
        # another connection writes in between.
        source.backup(dest)
        # The copy inherits WAL mode from the live file; switch the snapshot to a rollback journal
        # so it is one self-contained file that can be opened read-only anywhere. The restored
        # service turns WAL on again (settings.py's init_command).
        dest.execute("PRAGMA journal_mode=DELETE")
        counts = table_counts(dest)
        migrations = [
            [app, name] for app, name in dest.execute("SELECT app, name FROM django_migrations ORDER BY id")
        ]
    finally:
        dest.close()
    return counts, migrations


def create_backup(
    *,
    output_dir: Path | None = None,
    keep: int | None = None,
    now: datetime.datetime | None = None,
) -> BackupResult:
    """Write a snapshot archive into ``output_dir`` and keep only the newest ``keep`` archives.

    ``output_dir`` defaults to ``settings.BACKUP_DIR`` (created, owner-only, when missing) and
    ``keep`` to ``settings.BACKUP_KEEP``; ``now`` (default: the current time) names the archive and
    is the manifest's ``created_at``. The archive appears atomically (written as ``.partial``,
    then renamed) with mode 0600, because it holds personal data. Raises ``BackupError`` on
    PostgreSQL, where ``pg_dump`` is the tool.
    """
    if connection.vendor != "sqlite":
        raise BackupError(
            f"The database is {connection.vendor}, not SQLite: manage.py backup is for school mode. "
            "In district mode back up PostgreSQL with pg_dump (e.g. pg_dump -Fc) and copy MEDIA_ROOT."
        )
    output_dir = Path(output_dir if output_dir is not None else settings.BACKUP_DIR)
    keep = settings.BACKUP_KEEP if keep is None else keep
    if keep < 1:
        raise BackupError(f"--keep must be at least 1, got {keep}")
    created_at = timezone.localtime(now or _now()).replace(microsecond=0)
    output_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    final = output_dir / archive_name(created_at)
    partial = final.with_name(final.name + ".partial")
    media_root = Path(settings.MEDIA_ROOT)

    # The work directory sits in output_dir, not /tmp: the snapshot is as large as the database,
    # /tmp is often a small tmpfs, and TemporaryDirectory creates it owner-only (0700).
    with tempfile.TemporaryDirectory(dir=output_dir, prefix=".houqin-backup-") as tmp:
        work = Path(tmp)
        counts, migrations = _snapshot(work / DB_MEMBER)
        partial.unlink(missing_ok=True)  # a leftover of an interrupted run
        # O_EXCL with mode 0600: the file never exists, even briefly, with wider permissions.
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "wb") as raw:
                with tarfile.open(fileobj=raw, mode="w:gz", compresslevel=6) as tar:
                    tar.add(work / DB_MEMBER, arcname=DB_MEMBER)
                    media_files = media_bytes = 0
                    for path in _media_files(media_root):
                        arcname = f"{MEDIA_MEMBER}/{path.relative_to(media_root).as_posix()}"
                        try:
                            info = tar.gettarinfo(path, arcname=arcname)
                            with path.open("rb") as f:
                                tar.addfile(info, f)
                        except FileNotFoundError:
                            continue  # deleted while we were working: it is not in this backup
                        media_files += 1
                        media_bytes += info.size
                    # The manifest is written last, so that it describes what the archive really holds.
                    manifest = {
                        "format": FORMAT_VERSION,
                        "created_at": created_at.isoformat(),
                        "migrations": migrations,
                        "counts": counts,
                        "media_files": media_files,
                        "media_bytes": media_bytes,
                    }
                    (work / MANIFEST_MEMBER).write_text(json.dumps(manifest, ensure_ascii=False, indent=1))
                    tar.add(work / MANIFEST_MEMBER, arcname=MANIFEST_MEMBER)
                raw.flush()
                os.fsync(raw.fileno())  # on disk before the rename makes it look complete
            os.replace(partial, final)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise

    removed = [p for p in list_archives(output_dir)[:-keep] if p != final]
    for old in removed:
        old.unlink(missing_ok=True)
    return BackupResult(
        path=final,
        created_at=created_at,
        counts=counts,
        migrations=len(migrations),
        media_files=media_files,
        media_bytes=media_bytes,
        removed=removed,
    )


# --- restore ----------------------------------------------------------------------------------


def _check_members(members: list[tarfile.TarInfo]) -> None:
    """Refuse the whole archive if any member could write outside the target or is not ours.

    Checked before anything is extracted: Python 3.11's tarfile extracts absolute paths, ``..``
    and links as told unless a filter is given, and this also rejects device files and FIFOs.
    """
    seen: set[str] = set()
    for m in members:
        path = PurePosixPath(m.name)
        if not m.name or path.is_absolute() or ".." in path.parts:
            raise BackupError(f"Unsafe path in archive, refused: {m.name!r}")
        if path.as_posix() != m.name:  # "./x", "a//b": not written by create_backup
            raise BackupError(f"Unexpected entry in archive, refused: {m.name!r}")
        if m.issym() or m.islnk():
            raise BackupError(f"Link in archive, refused: {m.name!r} -> {m.linkname!r}")
        if not (m.isfile() or m.isdir()):
            raise BackupError(f"Special file in archive, refused: {m.name!r}")
        name = m.name
        if name not in (DB_MEMBER, MANIFEST_MEMBER, MEDIA_MEMBER) and path.parts[0] != MEDIA_MEMBER:
            raise BackupError(f"Unexpected entry in archive, refused: {m.name!r}")
        if (name in (DB_MEMBER, MANIFEST_MEMBER) and not m.isfile()) or (
            name == MEDIA_MEMBER and not m.isdir()
        ):
            raise BackupError(f"Unexpected entry in archive, refused: {m.name!r}")
        if m.isfile() and name in seen:
            raise BackupError(f"Duplicate entry in archive, refused: {m.name!r}")
        seen.add(name)


def _read_manifest(tar: tarfile.TarFile, names: set[str]) -> dict:
    if MANIFEST_MEMBER not in names or DB_MEMBER not in names:
        raise BackupError(f"Not a Houqin backup: the archive has no {MANIFEST_MEMBER} or no {DB_MEMBER}.")
    try:
        manifest = json.loads(tar.extractfile(MANIFEST_MEMBER).read())
    except (KeyError, ValueError, AttributeError, tarfile.TarError, OSError) as exc:
        raise BackupError(f"Unreadable {MANIFEST_MEMBER}: {exc}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_VERSION:
        raise BackupError(
            f"Unknown backup format in {MANIFEST_MEMBER} (this version reads format {FORMAT_VERSION})."
        )
    counts = manifest.get("counts")
    valid = (
        isinstance(counts, dict)
        and all(isinstance(k, str) and type(v) is int for k, v in counts.items())
        and type(manifest.get("media_files")) is int
        and type(manifest.get("media_bytes")) is int
    )
    if not valid:
        raise BackupError(
            f"Invalid {MANIFEST_MEMBER}: counts, media_files or media_bytes missing or malformed."
        )
    return manifest


def _live_database_paths() -> list[Path]:
    """Database files of the running settings: a restore must never write to one of them."""
    paths = []
    dicts = [c.settings_dict for c in connections.all(initialized_only=True)]
    dicts += list(settings.DATABASES.values())
    for d in dicts:
        name = str(d.get("NAME") or "")
        if (
            "sqlite3" in str(d.get("ENGINE", ""))
            and name
            and ":memory:" not in name
            and not name.startswith("file:")
        ):
            paths.append(Path(name).resolve())
    return paths


def _same_file(a: Path, b: Path) -> bool:
    if a == b:
        return True
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def _extract(tar: tarfile.TarFile, members: list[tarfile.TarInfo], staging: Path) -> None:
    """Write the (already checked) regular files of the archive under ``staging`` by hand.

    No tarfile.extract: nothing of the member but its name and content is used (no owner, mode
    or link target), and each resolved destination is checked to lie inside ``staging`` again.
    """
    root = staging.resolve()
    for m in members:
        if not m.isfile():
            continue
        dest = (root / m.name).resolve()
        if not dest.is_relative_to(root):
            raise BackupError(f"Unsafe path in archive, refused: {m.name!r}")
        dest.parent.mkdir(parents=True, exist_ok=True)
        src = tar.extractfile(m)
        fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if m.name == DB_MEMBER else 0o644)
        with src, os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(src, out, 1024 * 1024)


def restore_backup(*, archive: Path, var_dir: Path, force: bool = False) -> RestoreResult:
    """Restore ``archive`` into ``var_dir`` (``houqin.sqlite3`` and ``media/``) and verify it.

    Refuses (``BackupError``): a ``var_dir`` that already holds ``houqin.sqlite3`` or a non-empty
    ``media/`` unless ``force`` (which replaces both); a target that is a database of the running
    settings, even with ``force``; an archive without a valid manifest; any archive member that is
    absolute, contains ``..``, is a link or special file, or is not ours (checked before anything
    is written). The database is unpacked into a staging directory inside ``var_dir``, checked with
    ``PRAGMA integrity_check``, and its row count per table and the media file count and size must
    equal the manifest's; only then is it moved into place. On any refusal ``var_dir`` is left as
    it was.
    """
    archive = Path(archive)
    var_dir = Path(var_dir).expanduser().resolve()
    target_db = var_dir / RESTORED_DB_NAME
    target_media = var_dir / MEDIA_MEMBER

    for live in _live_database_paths():
        if _same_file(target_db, live):
            raise BackupError(
                f"{target_db} is the database of the running settings: restore into a new --var-dir, "
                "then point HOUQIN_VAR_DIR at it."
            )
    if not force:
        if target_db.exists():
            raise BackupError(
                f"{target_db} already exists: restore into a fresh directory, or pass --force to replace it."
            )
        if target_media.is_dir() and any(target_media.iterdir()):
            raise BackupError(
                f"{target_media} is not empty: restore into a fresh directory, or pass --force to replace it."
            )
    if not archive.is_file():
        raise BackupError(f"No such archive: {archive}")

    try:
        tar = tarfile.open(archive, "r:gz")  # noqa: SIM115 (closed by the with statement below)
    except (tarfile.TarError, OSError) as exc:
        raise BackupError(f"Not a Houqin backup archive ({archive}): {exc}") from None
    with tar:
        try:
            members = tar.getmembers()
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise BackupError(f"Damaged archive ({archive}): {exc}") from None
        _check_members(members)
        manifest = _read_manifest(tar, {m.name for m in members})

        var_dir.mkdir(parents=True, exist_ok=True)
        # Staging inside var_dir keeps the final moves on one filesystem, i.e. atomic renames.
        staging = Path(tempfile.mkdtemp(dir=var_dir, prefix=".houqin-restore-"))
        try:
            try:
                _extract(tar, members, staging)
            except (tarfile.TarError, OSError, EOFError) as exc:
                raise BackupError(f"Damaged archive ({archive}): {exc}") from None
            db = staging / DB_MEMBER
            try:
                check = _open_readonly(db)
                try:
                    integrity = check.execute("PRAGMA integrity_check").fetchone()[0]
                    counts = table_counts(check)
                finally:
                    check.close()
            except sqlite3.DatabaseError as exc:
                raise BackupError(f"The database in the archive cannot be read: {exc}") from None
            if integrity != "ok":
                raise BackupError(f"The database in the archive fails PRAGMA integrity_check: {integrity}")

            expected: dict[str, int] = manifest["counts"]
            differing = sorted(t for t in expected.keys() | counts.keys() if expected.get(t) != counts.get(t))
            if differing:
                lines = [
                    f"  {t}: manifest {expected.get(t, '-')}, restored {counts.get(t, '-')}"
                    for t in differing
                ]
                raise BackupError("Row counts differ from the manifest:\n" + "\n".join(lines))
            media = _media_files(staging / MEDIA_MEMBER)
            media_bytes = sum(p.stat().st_size for p in media)
            if (len(media), media_bytes) != (manifest["media_files"], manifest["media_bytes"]):
                raise BackupError(
                    f"Media files differ from the manifest: manifest {manifest['media_files']} files "
                    f"({manifest['media_bytes']} bytes), restored {len(media)} files ({media_bytes} bytes)"
                )

            # Verified: move into place. A -wal or -shm file left by a replaced database would be
            # replayed into the restored one by SQLite and corrupt it, so they go first.
            for suffix in ("-wal", "-shm", "-journal"):
                target_db.with_name(target_db.name + suffix).unlink(missing_ok=True)
            os.replace(db, target_db)
            os.chmod(target_db, 0o600)
            if target_media.exists():  # only with force (or empty): the old files are replaced
                os.replace(target_media, staging / "old-media")
            if (staging / MEDIA_MEMBER).is_dir():
                os.replace(staging / MEDIA_MEMBER, target_media)
            else:
                target_media.mkdir()
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    return RestoreResult(
        var_dir=var_dir,
        database=target_db,
        created_at=str(manifest.get("created_at", "")),
        counts=counts,
        media_files=len(media),
        media_bytes=media_bytes,
    )
