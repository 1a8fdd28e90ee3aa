"""The baseline of bench/pages.py: Django answering a small JSON view with nothing else, served by
the same gunicorn configuration (config/gunicorn.py) as Kirakira."""
