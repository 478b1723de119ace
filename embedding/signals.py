from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from embedding.models import EmbeddingModel
from embedding.vector_index import drop_vector_index, ensure_vector_index


@receiver(pre_save, sender=EmbeddingModel)
def drop_index_when_dimension_changes(sender, instance, **kwargs):
    if instance.pk is None:
        return
    previous_dim = EmbeddingModel.objects.filter(pk=instance.pk).values_list("dim", flat=True).first()
    if previous_dim is not None and previous_dim != instance.dim:
        drop_vector_index(instance)


@receiver(post_save, sender=EmbeddingModel)
def create_index_for_registered_model(sender, instance, **kwargs):
    ensure_vector_index(instance)


@receiver(post_delete, sender=EmbeddingModel)
def drop_index_of_deleted_model(sender, instance, **kwargs):
    drop_vector_index(instance)
