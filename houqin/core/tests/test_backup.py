"""Backup and restore (X-12): a round trip gives identical counts and files; bad archives are refused.

The tests that snapshot the live test database use ``transactional_db``: SQLite's backup API
answers SQLITE_LOCKED while its source connection holds a write transaction, which is what the
``db`` fixture's enclosing atomic block is (settings.py begins transactions IMMEDIATE). The
restore-only tests build small archives by hand and need no database.
"""

import datetime
import io
import json
import os
import sqlite3
import tarfile
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from houqin.core import backup
from houqin.core.backup import BackupError, create_backup, restore_backup, table_counts

# School-mode backup works on SQLite; a district backs up PostgreSQL with pg_dump.
pytestmark = pytest.mark.skipif("sqlite" not in settings.DATABASES["default"]["ENGINE"],
                                reason="school-mode backup is for SQLite")

PHOTO = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40  # every byte value: a binary round trip


@pytest.fixture
def dirs(settings, tmp_path):
    """MEDIA_ROOT and BACKUP_DIR in tmp_path, with one binary media file in a subfolder."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.BACKUP_DIR = tmp_path / "backups"
    (tmp_path / "media" / "rooms" / "2026").mkdir(parents=True)
    (tmp_path / "media" / "rooms" / "2026" / "宿舍 101.jpg").write_bytes(PHOTO)
    return tmp_path


def _live_counts() -> dict[str, int]:
    connection.ensure_connection()
    return table_counts(connection.connection)


def _files_under(root: Path) -> set[Path]:
    return {p.relative_to(root) for p in root.rglob("*")}


# --- archives built by hand for the restore checks ---------------------------------------------


def _db_bytes(tmp_path: Path, rows: int = 3) -> bytes:
    path = tmp_path / "made.sqlite3"
    path.unlink(missing_ok=True)
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE thing (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT)")
    conn.execute("CREATE TABLE other (id INTEGER PRIMARY KEY)")
    conn.executemany("INSERT INTO thing (name) VALUES (?)", [(f"t{i}",) for i in range(rows)])
    conn.commit()
    conn.close()
    return path.read_bytes()


def _add(tar: tarfile.TarFile, name: str, data: bytes = b"", **attrs) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    for key, value in attrs.items():
        setattr(info, key, value)
    tar.addfile(info, io.BytesIO(data) if info.isfile() else None)


def _make_archive(tmp_path: Path, *, manifest_edit=None, extra=(), media=None, name="made.tar.gz") -> Path:
    """An archive shaped like create_backup's: db.sqlite3 (thing: 3 rows, other: 0), media, manifest."""
    media = {"a/b.txt": b"hello"} if media is None else media
    manifest = {
        "format": 1,
        "created_at": "2026-11-01T10:00:00+08:00",
        "migrations": [],
        "counts": {"thing": 3, "other": 0},
        "media_files": len(media),
        "media_bytes": sum(len(v) for v in media.values()),
    }
    if manifest_edit:
        manifest_edit(manifest)
    path = tmp_path / name
    with tarfile.open(path, "w:gz") as tar:
        _add(tar, "db.sqlite3", _db_bytes(tmp_path))
        for rel, data in media.items():
            _add(tar, f"media/{rel}", data)
        for member in extra:
            _add(tar, *member[:2], **(member[2] if len(member) > 2 else {}))
        _add(tar, "manifest.json", json.dumps(manifest).encode())
    return path


# --- backup and the round trip ------------------------------------------------------------------


def test_backup_then_restore_gives_the_live_counts_and_identical_media(school, transactional_db, dirs):
    """The archive's manifest and the restored database both hold the live row count of every table;
    the media file comes back byte for byte; archive and restored database are owner-only."""
    live = _live_counts()
    assert live["org_student"] > 0 and live["django_migrations"] > 0
    assert not any(t.startswith("sqlite_") for t in live)

    result = create_backup()

    assert result.path.parent == dirs / "backups"
    assert backup.ARCHIVE_RE.match(result.path.name)
    assert result.path.stat().st_mode & 0o777 == 0o600
    assert [p.name for p in (dirs / "backups").iterdir()] == [result.path.name]  # no .partial, no work dir
    assert result.counts == live
    assert (result.media_files, result.media_bytes) == (1, len(PHOTO))
    with tarfile.open(result.path) as tar:
        assert sorted(tar.getnames()) == ["db.sqlite3", "manifest.json", "media/rooms/2026/宿舍 101.jpg"]
        manifest = json.loads(tar.extractfile("manifest.json").read())
    assert manifest["format"] == 1
    assert manifest["counts"] == live
    assert ["org", "0001_initial"] in manifest["migrations"]
    assert len(manifest["migrations"]) == live["django_migrations"]
    assert datetime.datetime.fromisoformat(manifest["created_at"]).utcoffset() == datetime.timedelta(hours=8)
    assert (manifest["media_files"], manifest["media_bytes"]) == (1, len(PHOTO))

    restored = restore_backup(archive=result.path, var_dir=dirs / "fresh")

    assert restored.database == dirs / "fresh" / "houqin.sqlite3"
    assert restored.counts == live
    assert table_counts(restored.database) == live
    assert restored.database.stat().st_mode & 0o777 == 0o600
    assert (dirs / "fresh/media/rooms/2026/宿舍 101.jpg").read_bytes() == PHOTO
    assert _files_under(dirs / "fresh") == {
        Path("houqin.sqlite3"),
        Path("media"),
        Path("media/rooms"),
        Path("media/rooms/2026"),
        Path("media/rooms/2026/宿舍 101.jpg"),
    }  # no staging directory, -wal or -shm left behind


def test_backup_command_keeps_the_newest_n_and_only_touches_its_own_archives(
    school, transactional_db, dirs, monkeypatch, capsys
):
    """`backup --keep 2` run three times (one clock step apart) leaves the two newest archives,
    named in Asia/Shanghai time; files not named like an archive are never deleted."""
    out_dir = dirs / "elsewhere"
    out_dir.mkdir()
    (out_dir / "houqin-backup-before-upgrade.tar.gz").write_bytes(b"kept by hand")
    (out_dir / "notes.txt").write_text("not a backup")
    times = iter(
        datetime.datetime(2026, 11, 1, 18, 30, tzinfo=datetime.UTC) + datetime.timedelta(days=i)
        for i in range(3)
    )
    monkeypatch.setattr(backup, "_now", lambda: next(times))

    for _ in range(3):
        call_command("backup", "--output-dir", str(out_dir), "--keep", "2")

    assert sorted(p.name for p in out_dir.iterdir()) == [
        "houqin-backup-20261103-023000.tar.gz",  # 18:30 UTC is 02:30 next day in Shanghai
        "houqin-backup-20261104-023000.tar.gz",
        "houqin-backup-before-upgrade.tar.gz",
        "notes.txt",
    ]
    out = capsys.readouterr().out
    assert "Removed old backup houqin-backup-20261102-023000.tar.gz" in out
    assert "1 media files" in out
    assert out.strip().splitlines()[-1] == str(out_dir / "houqin-backup-20261104-023000.tar.gz")
    assert not (dirs / "backups").exists()  # --output-dir replaces BACKUP_DIR


def test_backup_keep_defaults_to_setting_and_never_removes_the_new_archive(
    school, transactional_db, dirs, settings
):
    """Without keep, settings.BACKUP_KEEP applies; an archive dated before the existing ones survives."""
    settings.BACKUP_KEEP = 1
    later = datetime.datetime(2026, 12, 1, tzinfo=datetime.UTC)
    first = create_backup(now=later)
    second = create_backup(now=later - datetime.timedelta(days=1))  # e.g. the clock was set back
    assert second.path.exists()
    assert second.removed == [] and first.path.exists()
    third = create_backup(now=later + datetime.timedelta(days=1))
    assert sorted(p.name for p in third.removed) == sorted([first.path.name, second.path.name])
    assert [p.name for p in (dirs / "backups").iterdir()] == [third.path.name]


def test_restore_command_prints_the_counts_and_refuses_an_existing_target_without_force(
    school, transactional_db, dirs, capsys
):
    """`restore` prints each table's count, "verified" and the next step; a second restore into the
    same directory is refused unless --force, which replaces the database and the media files and
    drops a stale WAL file of the replaced database."""
    call_command("backup")
    archive = next((dirs / "backups").glob("houqin-backup-*.tar.gz"))
    target = dirs / "restored"

    call_command("restore", str(archive), "--var-dir", str(target))
    out = capsys.readouterr().out
    assert "verified" in out
    assert "org_student" in out and str(_live_counts()["org_student"]) in out
    assert f"HOUQIN_VAR_DIR={target} make run" in out

    (target / "media" / "stale.txt").write_text("from before")
    (target / "houqin.sqlite3-wal").write_bytes(b"stale wal")
    before = (target / "houqin.sqlite3").read_bytes()
    with pytest.raises(CommandError, match="already exists.*--force"):
        call_command("restore", str(archive), "--var-dir", str(target))
    assert (target / "houqin.sqlite3").read_bytes() == before

    call_command("restore", str(archive), "--var-dir", str(target), "--force")
    assert "verified" in capsys.readouterr().out
    assert not (target / "media" / "stale.txt").exists()
    assert not (target / "houqin.sqlite3-wal").exists()
    assert (target / "media/rooms/2026/宿舍 101.jpg").read_bytes() == PHOTO


def test_restore_of_a_real_archive_with_tampered_counts_names_each_table(school, transactional_db, dirs):
    """Changed counts in the manifest fail the verification with every differing table named, and
    nothing is left in the target directory."""
    archive = create_backup().path
    tampered = dirs / "tampered.tar.gz"
    with tarfile.open(archive) as src, tarfile.open(tampered, "w:gz") as dst:
        for m in src.getmembers():
            data = src.extractfile(m).read()
            if m.name == "manifest.json":
                manifest = json.loads(data)
                manifest["counts"]["org_student"] += 1
                manifest["counts"]["org_ghost"] = 7
                data = json.dumps(manifest).encode()
                m.size = len(data)
            dst.addfile(m, io.BytesIO(data))

    with pytest.raises(CommandError) as exc:
        call_command("restore", str(tampered), "--var-dir", str(dirs / "x"))

    message = str(exc.value)
    assert "org_student: manifest" in message and "org_ghost: manifest 7, restored -" in message
    assert "org_room" not in message
    assert list((dirs / "x").iterdir()) == []


class _FileConnection:
    """Stands in for django.db.connection over a file database in WAL mode, as in production."""

    vendor = "sqlite"

    def __init__(self, path):
        self.connection = sqlite3.connect(path, isolation_level=None)

    def ensure_connection(self):
        pass


def test_snapshot_of_a_live_wal_database_is_consistent_and_self_contained(tmp_path, settings, monkeypatch):
    """Rows committed but still only in the -wal file are in the snapshot, another connection's
    uncommitted write is not, and the archived file is a single rollback-journal database."""
    settings.MEDIA_ROOT = tmp_path / "no-media"
    live = tmp_path / "live.sqlite3"
    fake = _FileConnection(live)
    db = fake.connection
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA wal_autocheckpoint=0")  # committed pages stay in live.sqlite3-wal
    db.execute("CREATE TABLE django_migrations (id INTEGER PRIMARY KEY, app TEXT, name TEXT, applied TEXT)")
    db.execute("INSERT INTO django_migrations (app, name) VALUES ('org', '0001_initial')")
    db.execute("CREATE TABLE thing (x)")
    db.executemany("INSERT INTO thing VALUES (?)", [(i,) for i in range(100)])
    assert (tmp_path / "live.sqlite3-wal").stat().st_size > 0
    writer = sqlite3.connect(live, isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("INSERT INTO thing VALUES (-1)")  # in flight while the backup runs
    monkeypatch.setattr(backup, "connection", fake)

    result = create_backup(output_dir=tmp_path / "out", keep=1)
    writer.execute("COMMIT")

    assert result.counts == {"django_migrations": 1, "thing": 100}
    with tarfile.open(result.path) as tar:
        data = tar.extractfile("db.sqlite3").read()
    assert data[18:20] == b"\x01\x01"  # file format 1: rollback journal, not WAL
    restored = restore_backup(archive=result.path, var_dir=tmp_path / "new")
    assert restored.counts == {"django_migrations": 1, "thing": 100}
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == ["houqin.sqlite3", "media"]
    writer.close()
    db.close()


def test_backup_refuses_postgresql(dirs, monkeypatch):
    """On PostgreSQL the command points the operator to pg_dump and writes nothing."""
    monkeypatch.setattr(connection, "vendor", "postgresql")
    with pytest.raises(CommandError, match="pg_dump"):
        call_command("backup")
    assert not (dirs / "backups").exists()


def test_backup_inside_a_transaction_is_refused_not_hung(db, dirs):
    """The backup API would wait forever on its own connection's write transaction: refused instead."""
    with pytest.raises(BackupError, match="transaction"):
        create_backup()
    assert list((dirs / "backups").iterdir()) == []


def test_backup_refuses_keep_below_one(dirs):
    with pytest.raises(BackupError, match="at least 1"):
        create_backup(keep=0)


# --- restore refusals (hand-made archives, no database needed) -------------------------------------


def test_a_hand_made_archive_restores(tmp_path):
    """The hand-made archive of the refusal tests is itself valid, so they test just one defect."""
    result = restore_backup(archive=_make_archive(tmp_path), var_dir=tmp_path / "ok")
    assert result.counts == {"other": 0, "thing": 3}  # sqlite_sequence (AUTOINCREMENT) left out
    assert (tmp_path / "ok/media/a/b.txt").read_bytes() == b"hello"


@pytest.mark.parametrize(
    "member",
    [
        ("../evil", b"owned"),
        ("media/../../evil", b"owned"),
        ("/tmp/houqin-evil", b"owned"),
        ("media/link", b"", {"type": tarfile.SYMTYPE, "linkname": "../../evil"}),
        ("media/hard", b"", {"type": tarfile.LNKTYPE, "linkname": "db.sqlite3"}),
        ("media/fifo", b"", {"type": tarfile.FIFOTYPE}),
        ("secret_key", b"not ours"),
    ],
    ids=["dotdot", "media-dotdot", "absolute", "symlink", "hardlink", "fifo", "unexpected"],
)
def test_unsafe_members_refuse_the_whole_archive_before_anything_is_written(tmp_path, member):
    """Each member is checked before extraction: one bad member and nothing at all is written."""
    archive = _make_archive(tmp_path, extra=[member])
    before = _files_under(tmp_path)
    with pytest.raises(BackupError, match="refused"):
        restore_backup(archive=archive, var_dir=tmp_path / "target")
    assert _files_under(tmp_path) == before  # not even the target directory
    assert not Path("/tmp/houqin-evil").exists()


def test_dotdot_member_refused_by_the_command(tmp_path):
    archive = _make_archive(tmp_path, extra=[("../evil", b"owned")])
    with pytest.raises(CommandError, match="Unsafe path.*evil"):
        call_command("restore", str(archive), "--var-dir", str(tmp_path / "target"))
    assert not (tmp_path / "evil").exists()


def _drop(key):
    return lambda m: m.pop(key)


@pytest.mark.parametrize(
    ("edit", "error"),
    [
        (lambda m: m.update(format=2), "Unknown backup format"),
        (_drop("counts"), "Invalid manifest"),
        (lambda m: m.update(counts={"thing": "3"}), "Invalid manifest"),
        (_drop("media_files"), "Invalid manifest"),
    ],
    ids=["format", "no-counts", "string-count", "no-media-count"],
)
def test_invalid_manifest_is_refused(tmp_path, edit, error):
    with pytest.raises(BackupError, match=error):
        restore_backup(archive=_make_archive(tmp_path, manifest_edit=edit), var_dir=tmp_path / "t")
    assert not (tmp_path / "t").exists()


def test_missing_manifest_or_not_an_archive_is_refused(tmp_path):
    no_manifest = tmp_path / "no-manifest.tar.gz"
    with tarfile.open(no_manifest, "w:gz") as tar:
        _add(tar, "db.sqlite3", _db_bytes(tmp_path))
    with pytest.raises(BackupError, match="no manifest.json"):
        restore_backup(archive=no_manifest, var_dir=tmp_path / "t")
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not a tar file")
    with pytest.raises(BackupError, match="Not a Houqin backup"):
        restore_backup(archive=junk, var_dir=tmp_path / "t")
    with pytest.raises(BackupError, match="No such archive"):
        restore_backup(archive=tmp_path / "missing.tar.gz", var_dir=tmp_path / "t")


def test_media_mismatch_is_refused(tmp_path):
    archive = _make_archive(tmp_path, manifest_edit=lambda m: m.update(media_files=2))
    with pytest.raises(BackupError, match="Media files differ"):
        restore_backup(archive=archive, var_dir=tmp_path / "t")
    assert list((tmp_path / "t").iterdir()) == []


def test_corrupt_database_is_refused(tmp_path):
    archive = tmp_path / "corrupt.tar.gz"
    manifest = {"format": 1, "counts": {}, "media_files": 0, "media_bytes": 0}
    with tarfile.open(archive, "w:gz") as tar:
        _add(tar, "db.sqlite3", b"SQLite format 3\x00" + b"\x00" * 84 + b"garbage" * 100)
        _add(tar, "manifest.json", json.dumps(manifest).encode())
    with pytest.raises(BackupError, match="cannot be read|integrity"):
        restore_backup(archive=archive, var_dir=tmp_path / "t")
    assert not (tmp_path / "t" / "houqin.sqlite3").exists()


def test_non_empty_media_dir_needs_force(tmp_path):
    (tmp_path / "t" / "media").mkdir(parents=True)
    (tmp_path / "t" / "media" / "old.jpg").write_bytes(b"old")
    archive = _make_archive(tmp_path)
    with pytest.raises(BackupError, match="not empty"):
        restore_backup(archive=archive, var_dir=tmp_path / "t")
    restore_backup(archive=archive, var_dir=tmp_path / "t", force=True)
    assert _files_under(tmp_path / "t" / "media") == {Path("a"), Path("a/b.txt")}


def test_restore_never_writes_the_live_database_even_with_force(tmp_path, monkeypatch):
    """A target that is the running settings' database file is refused, --force or not."""
    live = tmp_path / "var" / "houqin.sqlite3"
    live.parent.mkdir()
    live.write_bytes(b"the live database")
    monkeypatch.setitem(connection.settings_dict, "NAME", str(live))
    with pytest.raises(CommandError, match="database of the running settings"):
        call_command("restore", str(_make_archive(tmp_path)), "--var-dir", str(tmp_path / "var"), "--force")
    assert live.read_bytes() == b"the live database"
    os.symlink(tmp_path / "var", tmp_path / "alias")  # the same directory by another name
    with pytest.raises(BackupError, match="running settings"):
        restore_backup(archive=_make_archive(tmp_path), var_dir=tmp_path / "alias", force=True)
    assert live.read_bytes() == b"the live database"


def test_table_counts_accepts_a_path_and_skips_sqlite_internal_tables(tmp_path):
    path = tmp_path / "c.sqlite3"
    path.write_bytes(_db_bytes(tmp_path, rows=5))
    conn = sqlite3.connect(path)
    conn.execute('CREATE TABLE "odd ""name""" (x)')
    conn.execute('INSERT INTO "odd ""name""" VALUES (1)')
    conn.commit()
    assert table_counts(conn) == {"thing": 5, "other": 0, 'odd "name"': 1}
    conn.close()
    assert table_counts(path) == {"thing": 5, "other": 0, 'odd "name"': 1}
    assert not (tmp_path / "missing.sqlite3").exists()
    with pytest.raises(sqlite3.OperationalError):
        table_counts(tmp_path / "missing.sqlite3")  # read-only: never creates a database
    assert not (tmp_path / "missing.sqlite3").exists()
