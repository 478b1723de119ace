from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from discovery.backup import BackupError, create_backup


class Command(BaseCommand):
    help = (
        "Back up the database (pg_dump) and the media folder into the folder DEST: database.dump, media/ and "
        "manifest.json with every file's checksum. `manage.py restore DEST` puts it back."
    )

    def add_arguments(self, parser):
        parser.add_argument("dest", type=Path, help="a new or empty folder")
        parser.add_argument("--force", action="store_true", help="replace an earlier backup in DEST")
        parser.add_argument(
            "--pg-bin", type=Path, metavar="DIR",
            help="folder of pg_dump/pg_restore/psql to use (default: pgserver's, else those on PATH)",
        )

    def handle(self, *args, dest: Path, force: bool, pg_bin: Path | None, verbosity: int, **options):
        def progress(**kwargs):
            return tqdm(dynamic_ncols=True, disable=None if verbosity else True, **kwargs)

        try:
            report = create_backup(dest, force=force, pg_bin=pg_bin, progress=progress)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(self.style.SUCCESS(report.summary()))
