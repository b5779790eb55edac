from django.urls import path

from . import views

app_name = "groups"
urlpatterns = [
    path("", views.tree, name="tree"),
    path("new/", views.group_create, name="create"),
    path("autocomplete/", views.autocomplete, name="autocomplete"),
    path("<int:pk>/", views.group_detail, name="detail"),
    path("<int:pk>/children/", views.children, name="children"),
    path("<int:pk>/edit/", views.group_edit, name="edit"),
    path("<int:pk>/move/", views.group_move, name="move"),
    path("<int:pk>/delete/", views.group_delete, name="delete"),
    path("<int:pk>/generate/", views.group_generate, name="generate"),
    path("<int:pk>/members/", views.group_members, name="members"),
    path("memberships/<int:pk>/delete/", views.membership_delete, name="membership_delete"),
]
