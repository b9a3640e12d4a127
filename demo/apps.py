from django.apps import AppConfig


class DemoConfig(AppConfig):
    """An app without models: it brings the ``load_demo`` command and the task that moves the
    demo units."""

    name = "demo"
    verbose_name = "Demo city"
