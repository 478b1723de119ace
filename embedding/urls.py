from django.urls import path

from embedding import views

urlpatterns = [
    path("progress/", views.progress, name="embedding_progress"),
    path("training/", views.training, name="embedding_training"),
]
