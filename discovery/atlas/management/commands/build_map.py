from django.core.management.base import BaseCommand, CommandError

from discovery.atlas.builder import build_map


class Command(BaseCommand):
    help = "Fit the map of a model's tracks afresh (UMAP, or PCA for a small catalogue), aligned to the last one."

    def add_arguments(self, parser):
        parser.add_argument("--model", help="embedding model name (default: the site's default model)")

    def handle(self, *args, model=None, **options):
        try:
            layout = build_map(model)
        except ValueError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(
            f"map of {layout.model.name}: {layout.fitted_points} tracks by {layout.get_method_display()} "
            f"in {layout.build_seconds:.1f} s"
        )
