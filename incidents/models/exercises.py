"""Exercises: a scenario played on the live console, every object it creates flagged."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Exercise(models.Model):
    class Status(models.TextChoices):
        RUNNING = "running", _("en cours")
        FINISHED = "finished", _("terminé")
        PURGED = "purged", _("purgé")

    scenario = models.SlugField(_("scénario"), max_length=60)
    name = models.CharField(_("nom"), max_length=200)
    status = models.CharField(_("état"), max_length=10, choices=Status.choices,
                              default=Status.RUNNING)
    speed = models.FloatField(_("vitesse"), default=1.0)
    # The scenario as it was when the exercise started, and the next step to play.
    steps = models.JSONField(default=list)
    cursor = models.PositiveIntegerField(default=0)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    started_at = models.DateTimeField(_("commencé le"))
    finished_at = models.DateTimeField(_("terminé le"), null=True, blank=True)
    purged_at = models.DateTimeField(_("purgé le"), null=True, blank=True)

    class Meta:
        verbose_name = _("exercice")
        verbose_name_plural = _("exercices")
        ordering = ["-started_at"]
        permissions = [("run_exercise", _("Conduire un exercice et noter les stagiaires"))]

    def __str__(self):
        return self.name

    @property
    def is_running(self) -> bool:
        return self.status == self.Status.RUNNING
