"""``manage.py restore``: unpack a backup archive into a new var directory and verify it (X-12)."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from houqin.core.backup import BackupError, restore_backup


class Command(BaseCommand):
    help = (
        "Restore a backup archive into a fresh var directory (NEWDIR/houqin.sqlite3 and NEWDIR/media/) "
        "and verify the row count of every table and the media files against its manifest. "
        "The database of the running settings is never touched."
    )

    def add_arguments(self, parser):
        parser.add_argument("archive", type=Path, help="a houqin-backup-*.tar.gz file")
        parser.add_argument(
            "--var-dir", type=Path, required=True, help="the new var directory (created if missing)"
        )
        parser.add_argument(
            "--force", action="store_true", help="replace a database and media files already in --var-dir"
        )

    def handle(self, *args, archive: Path, var_dir: Path, force: bool, **options):
        try:
            result = restore_backup(archive=archive, var_dir=var_dir, force=force)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"Backup of {result.created_at or 'unknown time'} restored to {result.database}")
        self.stdout.write(f"  {'table':<48} {'rows':>10}")
        for table, n in sorted(result.counts.items()):
            self.stdout.write(f"  {table:<48} {n:>10}")
        self.stdout.write(f"  {'media files':<48} {result.media_files:>10}")
        self.stdout.write(
            self.style.SUCCESS(
                f"verified: {len(result.counts)} tables and {result.media_files} media files "
                f"({result.media_bytes} bytes) match the manifest; integrity_check ok"
            )
        )
        self.stdout.write(
            f"Next: HOUQIN_VAR_DIR={result.var_dir} make run  (or point the service's HOUQIN_VAR_DIR at it "
            "and restart it). The secret key is not in the backup: copy secret_key from the old var "
            "directory too, or everyone has to log in again."
        )
