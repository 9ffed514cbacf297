from django.urls import path

from ketaclinic.audit_review import views

app_name = "audit"
urlpatterns = [path("", views.review, name="review")]
