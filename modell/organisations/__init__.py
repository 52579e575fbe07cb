"""Organisations (municipalities, regions, agencies, ...) and the people in them."""

from flask import Blueprint

bp = Blueprint("organisations", __name__, url_prefix="/organisationer")
