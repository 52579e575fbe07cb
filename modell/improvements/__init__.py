"""Improvement work, its log with result-chain steps, indicators and mentor sessions."""

from flask import Blueprint

bp = Blueprint("improvements", __name__, url_prefix="/arbete")
