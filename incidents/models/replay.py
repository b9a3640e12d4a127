"""Checkpoints of the replayed console state (see ``incidents.replay``)."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class ReplayCheckpoint(models.Model):
    """The console's state as reduced from the journal up to event ``seq``: a cache that replay
    starts from; deleting checkpoints loses nothing (they are rebuilt from the journal)."""

    version = models.PositiveSmallIntegerField()
    seq = models.BigIntegerField()
    time = models.DateTimeField()
    # zlib-compressed JSON: a tenth of the size, and read in a few milliseconds.
    state = models.BinaryField()

    class Meta:
        verbose_name = _("point de reprise du rejeu")
        verbose_name_plural = _("points de reprise du rejeu")
        constraints = [models.UniqueConstraint(fields=["version", "seq"],
                                               name="replay_checkpoint_unique")]
        permissions = [("view_replay", _("Rejouer le journal et lire les comptes rendus"))]

    def __str__(self):
        return f"#{self.seq} (v{self.version})"
