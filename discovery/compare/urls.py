from django.urls import path

from discovery.compare import views

urlpatterns = [
    path("", views.compare, name="compare"),
    path("<int:pk>/verdict/", views.vote, name="compare_vote"),
    path("tallies/", views.tally, name="compare_tallies"),
]
