import pytest

from embedding import samples
from embedding.models import EmbeddingModel, TrackEmbedding
from tests.vectors import make_tracks, random_unit_vectors

DIM = 16


@pytest.fixture
def tagged_corpus(db):
    """40 tracks: every one "ambient" at 0.5, a quarter of them also "folk" at 0.4; a second model's tags differ."""
    samples._corpus_samples.clear()
    samples._corpus_tag_means.clear()
    model = EmbeddingModel.objects.create(name="musicnn", dim=DIM)
    other = EmbeddingModel.objects.create(name="other", dim=DIM)
    tracks = make_tracks(40)
    vectors = random_unit_vectors(len(tracks), DIM, seed=3)
    TrackEmbedding.objects.bulk_create(
        [
            TrackEmbedding(track=t, model=model, vector=v, tags={"ambient": 0.5, **({"folk": 0.4} if i % 4 else {})})
            for i, (t, v) in enumerate(zip(tracks, vectors))
        ]
        + [TrackEmbedding(track=t, model=other, vector=v, tags={"metal": 0.9}) for t, v in zip(tracks, vectors)]
    )
    return model, other


def test_tag_means_are_over_the_whole_sample_counting_a_missing_tag_as_zero(tagged_corpus):
    model, _ = tagged_corpus
    means = samples.corpus_tag_means(model)
    assert means == pytest.approx({"ambient": 0.5, "folk": 0.3})


def test_each_model_has_its_own_tag_means(tagged_corpus):
    _, other = tagged_corpus
    assert samples.corpus_tag_means(other) == pytest.approx({"metal": 0.9})


def test_a_model_without_tags_has_no_means(tagged_corpus):
    model, _ = tagged_corpus
    TrackEmbedding.objects.filter(model=model).update(tags={})
    assert samples.corpus_tag_means(model) == {}


def test_tag_means_are_cached_with_the_sample(tagged_corpus, django_assert_num_queries):
    model, _ = tagged_corpus
    first = samples.corpus_tag_means(model)
    with django_assert_num_queries(0):
        assert samples.corpus_tag_means(model) == first
