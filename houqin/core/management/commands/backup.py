"""``manage.py backup``: a consistent snapshot of the SQLite database and the media files (X-12)."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from houqin.core.backup import BackupError, create_backup


class Command(BaseCommand):
    help = (
        "Write houqin-backup-YYYYmmdd-HHMMSS.tar.gz (database snapshot, media files, manifest) and "
        "delete the older archives beyond --keep. School mode (SQLite) only; use pg_dump in district mode."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--output-dir",
            type=Path,
            default=None,
            help=f"where the archives go (default: {settings.BACKUP_DIR})",
        )
        parser.add_argument(
            "--keep",
            type=int,
            default=None,
            help=f"how many archives to keep, newest first (default: HOUQIN_BACKUP_KEEP = {settings.BACKUP_KEEP})",
        )

    def handle(self, *args, output_dir: Path | None, keep: int | None, **options):
        try:
            result = create_backup(output_dir=output_dir, keep=keep)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        if options["verbosity"] >= 2:
            for table, n in sorted(result.counts.items()):
                self.stdout.write(f"  {table:<48} {n:>10}")
        self.stdout.write(
            f"{len(result.counts)} tables, {sum(result.counts.values())} rows, {result.migrations} migrations, "
            f"{result.media_files} media files ({result.media_bytes} bytes)"
        )
        for old in result.removed:
            self.stdout.write(f"Removed old backup {old.name}")
        # The archive path last and alone on its line, so a script can take it with `tail -n1`.
        self.stdout.write(self.style.SUCCESS(str(result.path)))
