from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from discovery.backup import BackupError, describe_counts, restore_backup, verify_backup


class Command(BaseCommand):
    help = (
        "Replace the database and the media folder with the backup in the folder SRC (made by `manage.py "
        "backup`), after checking every file against its manifest. Stop the web server and the worker first."
    )

    def add_arguments(self, parser):
        parser.add_argument("src", type=Path, help="a backup folder")
        parser.add_argument(
            "--force", action="store_true", help="replace a database (and media folder) that already holds data"
        )
        parser.add_argument("--check", action="store_true", help="only check the backup; change nothing")
        parser.add_argument(
            "--pg-bin", type=Path, metavar="DIR",
            help="folder of pg_dump/pg_restore/psql to use (default: pgserver's, else those on PATH)",
        )

    def handle(self, *args, src: Path, force: bool, check: bool, pg_bin: Path | None, verbosity: int, **options):
        def progress(**kwargs):
            return tqdm(dynamic_ncols=True, disable=None if verbosity else True, **kwargs)

        try:
            if check:
                manifest = verify_backup(src, progress)
                self.stdout.write(self.style.SUCCESS(
                    f"{src} is a whole backup of {manifest['created']}: {describe_counts(manifest['counts'])}, "
                    f"{len(manifest['files']) - 1} media file(s)."
                ))
                return
            report = restore_backup(src, force=force, pg_bin=pg_bin, progress=progress)
        except BackupError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(self.style.SUCCESS(report.summary()))
