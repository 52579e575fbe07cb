"""Meetings: schedule, hosts, invitations, attendance, documentation, feedback, calendar."""
