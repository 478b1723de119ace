"""Mounted at accounts/ before django.contrib.auth.urls: the password reset paths here take the place of
Django's, with the site's own pages; log in, log out and password change stay Django's."""

from django.urls import path

from discovery.accounts import views

urlpatterns = [
    path("signup/", views.signup, name="signup"),
    path("invites/", views.invites, name="invite_list"),
    path("invites/<int:pk>/revoke/", views.invite_revoke, name="invite_revoke"),
    path("users/", views.account_list, name="account_list"),
    path("users/<int:pk>/reset-link/", views.account_reset_link, name="account_reset_link"),
    path("password_reset/", views.password_reset, name="password_reset"),
    path("password_reset/done/", views.password_reset_done, name="password_reset_done"),
    path("reset/<uidb64>/<token>/", views.password_reset_confirm, name="password_reset_confirm"),
    path("reset/done/", views.password_reset_complete, name="password_reset_complete"),
]
