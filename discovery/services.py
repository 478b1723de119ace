from dataclasses import dataclass

from django.core.paginator import Paginator

from discovery.browse.services import credit_tracks, with_credits
from discovery.lib.forms import ListenerError
from embedding.models import EmbeddingModel
from taste.stations.forms import MAX_SEEDS
from taste.stations.services import seedable_tracks
from tracks.models import Track, status_counts


@dataclass(frozen=True)
class CorpusSummary:
    tracks: int
    ready: int
    pending: int
    failed: int
    default_model: EmbeddingModel | None

    @property
    def is_empty(self) -> bool:
        return self.tracks == 0


def corpus_summary() -> CorpusSummary:
    """Counts of the visible corpus by state, in one query."""
    counts = status_counts(Track.objects.visible())
    return CorpusSummary(tracks=sum(counts.values()), **counts, default_model=EmbeddingModel.default())


SEARCH_PAGE_SIZE = 20


def search_page(query: str, number: int = 1):
    """A page of SEARCH_PAGE_SIZE canonical tracks matching `query` (Track.objects.matching), each with its
    artist and album credits, or None for no query. Past the last page is the last page."""
    if not query:
        return None
    tracks = with_credits(Track.objects.canonical().matching(query))
    page = Paginator(tracks, SEARCH_PAGE_SIZE).get_page(number)
    page.object_list = credit_tracks(page.object_list)
    return page


def chosen_seeds(seed_ids: list[int]) -> list[Track]:
    """The tracks of `seed_ids` that can still seed a station, in that order (a page showing chips from a
    link drops one that has since been hidden or lost its vector)."""
    found = seedable_tracks().in_bulk(seed_ids)
    return [found[pk] for pk in seed_ids if pk in found]


def is_new_chip(track_id: int, chosen_ids: list[int]) -> bool:
    """Whether the track should become one more chip: False when it is one of `chosen_ids` already (a chip
    is never added twice); ListenerError when MAX_SEEDS are chosen."""
    if track_id in chosen_ids:
        return False
    if len(chosen_ids) >= MAX_SEEDS:
        raise ListenerError(f"A station starts from at most {MAX_SEEDS} songs; remove one before adding another.")
    return True
