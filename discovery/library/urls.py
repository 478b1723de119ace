from django.urls import path

from discovery.library import views

urlpatterns = [
    path("", views.home, name="library_home"),
    path("folder/", views.scan_folder, name="library_scan_folder"),
    path("itunes/", views.itunes_search, name="library_itunes"),
    path("itunes/import/", views.itunes_import, name="library_itunes_import"),
    path("upload/", views.upload, name="library_upload"),
    path("jobs/<int:pk>/", views.job_detail, name="library_job"),
    path("jobs/<int:pk>/progress/", views.job_progress, name="library_job_progress"),
    path("jobs/<int:pk>/retry/", views.job_retry, name="library_job_retry"),
]
