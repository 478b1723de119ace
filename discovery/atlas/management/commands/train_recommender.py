from django.core.management.base import BaseCommand, CommandError

from discovery.atlas.recommender import train_recommender


class Command(BaseCommand):
    help = (
        "Train the two-tower recommender on stations' anchor sets and albums, and compare it with the centroid "
        "throughline on held-out sets; stations use it only where it wins."
    )

    def add_arguments(self, parser):
        parser.add_argument("--model", help="embedding model name (default: the site's default model)")
        parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
        parser.add_argument("--epochs", type=int, help="at most this many epochs for the query tower")

    def handle(self, *args, model=None, device="auto", epochs=None, **options):
        try:
            result = train_recommender(model, device=device, epochs=epochs)
        except ValueError as error:
            raise CommandError(str(error)) from error
        two, centroid = result["two_tower"], result["centroid"]
        self.stdout.write(f"two-tower r_precision={two['r_precision']:.4f} ndcg20={two['ndcg20']:.4f}")
        self.stdout.write(f"centroid r_precision={centroid['r_precision']:.4f} ndcg20={centroid['ndcg20']:.4f}")
        self.stdout.write(result["verdict"])
