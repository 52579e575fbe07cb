"""reminders as data: rules reshaped, scheduled reminders, deliveries per recipient,
notifications, the outbox's retry time and dedupe key, users' reminder settings

The old reminder tables were never used (nothing sent reminders before this revision), so
they are replaced, and every existing template gets the default rules.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _choice(*values, name):
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


TS = sa.DateTime(timezone=True)

# The defaults as they stood at this revision (the shipped templates carry the same).
RULES = [
    ("send_invitation", "meeting", "benchmarking", -21, "host", "invitation_not_sent", False, True,
     "Dags att skicka inbjudan",
     "Ni är värd för träffen. Skicka inbjudan med dagordning senast två veckor före, med kopia "
     "till SKR:s projektledare.",
     "Time to send the invitation",
     "You host the meeting. Send the invitation with the agenda at least two weeks before, with "
     "a copy to SKR's project lead."),
    ("meeting_in_a_week", "meeting", "benchmarking", -7, "invited", None, False, False,
     "Benchmarkingträff om en vecka", "Påminnelse om den kommande träffen.",
     "Benchmarking meeting in a week", "A reminder of the coming meeting."),
    ("meeting_tomorrow", "meeting", "benchmarking", -1, "invited", None, False, False,
     "Benchmarkingträff i morgon", "Påminnelse om träffen i morgon.",
     "Benchmarking meeting tomorrow", "A reminder of tomorrow's meeting."),
    ("log_nudge", "between_meetings", "benchmarking", 0, "organisations",
     "no_entry_since_previous", True, False,
     "Logga ert förbättringsarbete",
     "Halvvägs till nästa träff har er organisation ännu inte skrivit något i loggen sedan förra "
     "träffen. Skriv vad ni har gjort och hur långt i resultatkedjan det nådde.",
     "Log your improvement work",
     "Halfway to the next meeting, your organisation has written nothing in the log since the "
     "last meeting. Write what you have done and how far along the result chain it reached."),
    ("post_documentation", "meeting", "benchmarking", 2, "host", "documentation_missing", False,
     True, "Lägg upp dokumentationen från träffen",
     "Som värd lägger ni upp anteckningarna och besluten från träffen.",
     "Post the documentation of the meeting",
     "As the host you post the notes and decisions of the meeting."),
    ("give_pmi", "meeting", "benchmarking", 2, "invited", "feedback_missing", False, False,
     "Ge ditt Plus – Minus – Intressant",
     "Vad var bra, vad var mindre bra och vad var intressant på träffen? Svaret går till SKR.",
     "Give your Plus – Minus – Interesting",
     "What was good, what was less good and what was interesting at the meeting? The answer "
     "goes to SKR."),
    ("prepare_results", "meeting", "result_conference", -30, "organisations", None, False, True,
     "Förbered er resultatpresentation",
     "Om en månad är resultatkonferensen, där varje organisation presenterar sina resultat. "
     "Utgå från loggen och era indikatorer.",
     "Prepare your result presentation",
     "The result conference is in a month; every organisation presents its results there. "
     "Start from the log and your indicators."),
]  # fmt: skip


def upgrade():
    op.drop_table("notifications")
    op.drop_table("reminder_deliveries")
    op.drop_table("reminder_rules")

    rules = op.create_table(
        "reminder_rules",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "template_id",
            sa.Integer(),
            sa.ForeignKey("programme_templates.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column(
            "event", _choice("meeting", "between_meetings", name="reminder_event"), nullable=False
        ),
        sa.Column("meeting_kind_key", sa.String(64), nullable=False),
        sa.Column("offset_days", sa.Integer(), nullable=False),
        sa.Column("send_hour", sa.Integer(), nullable=False),
        sa.Column(
            "audience",
            _choice("host", "invited", "organisations", "mentors", name="reminder_audience"),
            nullable=False,
        ),
        sa.Column(
            "condition",
            _choice(
                "invitation_not_sent",
                "no_entry_since_previous",
                "documentation_missing",
                "feedback_missing",
                name="reminder_condition",
            ),
            nullable=True,
        ),
        sa.Column("cc_mentor", sa.Boolean(), nullable=False),
        sa.Column("essential", sa.Boolean(), nullable=False),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("subject_en", sa.String(300), nullable=True),
        sa.Column("body_en", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.UniqueConstraint("template_id", "key"),
    )
    op.create_table(
        "scheduled_reminders",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "rule_id",
            sa.Integer(),
            sa.ForeignKey("reminder_rules.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column(
            "meeting_id",
            sa.Integer(),
            sa.ForeignKey("meetings.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("due_at", TS, nullable=False),
        sa.Column(
            "state",
            _choice("pending", "sending", "done", "cancelled", name="scheduled_reminder_state"),
            nullable=False,
        ),
        sa.Column("reason", sa.String(64), nullable=True),
        sa.Column("claimed_at", TS, nullable=True),
        sa.Column("processed_at", TS, nullable=True),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("rule_id", "meeting_id"),
    )
    op.create_index("ix_scheduled_reminders_due", "scheduled_reminders", ["state", "due_at"])
    op.create_table(
        "reminder_deliveries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "scheduled_id",
            sa.Integer(),
            sa.ForeignKey("scheduled_reminders.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column(
            "rule_id",
            sa.Integer(),
            sa.ForeignKey("reminder_rules.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "meeting_id",
            sa.Integer(),
            sa.ForeignKey("meetings.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column(
            "person_id", sa.Integer(), sa.ForeignKey("people.id", ondelete="SET NULL"), nullable=True
        ),
        sa.Column(
            "user_id",
            sa.Integer(),
            sa.ForeignKey("users.id", ondelete="SET NULL"),
            nullable=True,
            index=True,
        ),
        sa.Column(
            "organisation_id",
            sa.Integer(),
            sa.ForeignKey("organisations.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("cc", sa.Text(), nullable=True),
        sa.Column(
            "state",
            _choice("sent", "skipped", "failed", name="reminder_delivery_state"),
            nullable=False,
        ),
        sa.Column("reason", sa.String(64), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column(
            "outbox_message_id",
            sa.Integer(),
            sa.ForeignKey("outbox_messages.id", ondelete="SET NULL"),
            nullable=True,
            index=True,
        ),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("rule_id", "meeting_id", "recipient"),
    )
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "user_id", sa.Integer(), sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column(
            "delivery_id",
            sa.Integer(),
            sa.ForeignKey("reminder_deliveries.id", ondelete="SET NULL"),
            nullable=True,
        ),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column(
            "meeting_id",
            sa.Integer(),
            sa.ForeignKey("meetings.id", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("read_at", TS, nullable=True),
        sa.Column("digested_at", TS, nullable=True),
    )
    op.create_index("ix_notifications_user_unread", "notifications", ["user_id", "read_at"])

    with op.batch_alter_table("outbox_messages") as batch:
        batch.add_column(sa.Column("next_attempt_at", TS, nullable=True))
        batch.add_column(sa.Column("dedupe_key", sa.String(200), nullable=True))
        batch.create_unique_constraint("uq_outbox_messages_dedupe_key", ["dedupe_key"])
    with op.batch_alter_table("users") as batch:
        batch.add_column(
            sa.Column("optional_reminders", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch.add_column(
            sa.Column(
                "reminder_mail",
                _choice("immediate", "weekly", name="reminder_mail"),
                nullable=False,
                server_default="immediate",
            )
        )

    # Every existing template gets the default rules for the meeting kinds it has.
    bind = op.get_bind()
    kinds = bind.execute(
        sa.text(
            "SELECT template_id, key FROM meeting_kinds "
            "WHERE key IN ('benchmarking', 'result_conference')"
        )
    ).all()
    rows = []
    for template_id, kind in kinds:
        for key, event, kind_key, offset, audience, condition, cc, essential, *texts in RULES:
            if kind_key == kind:
                rows.append(
                    dict(
                        template_id=template_id,
                        key=key,
                        event=event,
                        meeting_kind_key=kind_key,
                        offset_days=offset,
                        send_hour=8,
                        audience=audience,
                        condition=condition,
                        cc_mentor=cc,
                        essential=essential,
                        subject=texts[0],
                        body=texts[1],
                        subject_en=texts[2],
                        body_en=texts[3],
                        active=True,
                    )
                )
    if rows:
        op.bulk_insert(rules, rows)


def downgrade():
    raise NotImplementedError("reminders cannot be downgraded: restore a backup instead")
