"""Entry point for gunicorn (`gunicorn wsgi:app`) and the `flask` command."""

import gc

from modell import create_app

app = create_app()

# What start-up made (modules, translations, templates: some 140,000 objects) lives as long as
# the process. Frozen, a full garbage collection no longer walks it: 25 ms a collection in a
# worker, which fell on whatever request was running, down to what requests leave behind.
gc.freeze()
