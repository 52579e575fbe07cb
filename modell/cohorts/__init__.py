"""Programme templates, cohorts, interest registrations, groups and participations."""

from flask import Blueprint

bp = Blueprint("cohorts", __name__, url_prefix="/omgangar")

from modell.cohorts import routes, template_routes  # noqa: E402,F401
