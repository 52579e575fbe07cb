"""Programme templates, cohorts, interest registrations, groups and participations."""

from flask import Blueprint

bp = Blueprint("cohorts", __name__, url_prefix="/omgangar")
