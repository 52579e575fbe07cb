"""What every domain needs: access decisions, time, mail, audit trail, shared types.

`core` imports no domain package. Its few pages live in `core.routes`.
"""
