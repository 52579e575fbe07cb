"""The scheduler's reminders, built on the template's reminder rules and the outbox, and the
in-app notifications with each user's reminder settings."""

from flask import Blueprint

bp = Blueprint("reminders", __name__)
