"""A test-only app whose model stores a field nobody declared: the catalog check must fail."""

import uuid

from django.db import models


class Leaky(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4)
    nickname = models.CharField(max_length=50)  # declared nowhere
    favourite_colour = models.CharField(max_length=20)  # declared as not personal
