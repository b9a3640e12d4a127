"""The demo city (Dijon): its loaders, which go through the apps' services, and the generators
of its history, clips and recordings. ``manage.py load_demo`` loads it."""
