"""The scheduler's reminders, built on the template's reminder rules and the outbox."""
