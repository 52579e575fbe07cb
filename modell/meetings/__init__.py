"""Meetings of a cohort or a group: schedule, invitations, attendance, documents, PMI, calendar."""

from flask import Blueprint

bp = Blueprint("meetings", __name__, url_prefix="/moten")
