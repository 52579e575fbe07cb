"""Accounts, login sessions, invitations and password reset."""

from flask import Blueprint

bp = Blueprint("auth", __name__, url_prefix="/konto")
