"""Each person's start page: what to do next, by role."""

from flask import Blueprint

bp = Blueprint("start", __name__)
