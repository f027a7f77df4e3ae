"""Email: every message goes to the ``email_outbox`` table; the smtp backend also delivers it after commit.

Templates live in ``templates/emails/<name>.txt`` and are rendered in the recipient's language.
"""

from __future__ import annotations

import logging
import smtplib
import uuid
from email.message import EmailMessage as MimeMessage
from typing import Any

from flask import current_app, render_template
from flask_babel import force_locale, gettext
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from saas.core.extensions import db
from saas.models import EmailMessage, User, utcnow

log = logging.getLogger(__name__)


def N_(message: str) -> str:  # noqa: N802 - the conventional name of the extraction marker
    """Mark ``message`` for extraction; it is translated later, in the recipient's language."""
    return message


SUBJECTS = {
    "verify_email": N_("Confirm your email address"),
    "reset_password": N_("Reset your password"),
    "invitation": N_("You are invited to join %(firm)s"),
    "inquiry_new": N_("New inquiry about %(product)s"),
    "inquiry_reply": N_("New reply about %(product)s"),
    "quote_received": N_("New quote for your request %(rfq)s"),
    "quote_accepted": N_("Your quote for %(rfq)s was accepted"),
    "programme_received": N_("Application received: %(round_title)s"),
    "programme_returned": N_("Application returned for correction: %(round_title)s"),
    "programme_passed": N_("Application passed county pre-review: %(round_title)s"),
    "programme_rejected": N_("Application rejected in pre-review: %(round_title)s"),
    "programme_proposed": N_("Proposed for selection (公示): %(round_title)s"),
    "programme_final": N_("Selected: %(round_title)s"),
    "programme_expert_reminder": N_("Reminder: review due %(due)s"),
    "programme_expert_assigned": N_("New application to review: %(round_title)s"),
    "billing_payment_failed": N_("The payment for %(firm)s failed"),
}


def send_mail(dbs: Session, to: str, template: str, *, user: User | None = None, **context: Any) -> EmailMessage:
    """Render ``template`` into the outbox for ``to``; SMTP delivery, if configured, happens after commit."""
    locale = (user.locale if user is not None else None) or "zh_CN"
    with force_locale(locale):
        subject = gettext(SUBJECTS[template], **{k: v for k, v in context.items() if isinstance(v, str)})
        body = render_template(f"emails/{template}.txt", user=user, **context)
    message = EmailMessage(to=to, subject=subject, body=body)
    dbs.add(message)
    dbs.flush()
    log.info("mail to %s: %s\n%s", to, subject, body)
    if current_app.config["MAIL_BACKEND"] == "smtp":
        pending = dbs.info.setdefault("mail_pending", [])
        pending.append(message.id)
    return message


@event.listens_for(Session, "after_commit")
def _deliver_after_commit(session: Session) -> None:
    pending = session.info.pop("mail_pending", None)
    if pending:
        config = dict(current_app.config)
        deliver(config, list(pending))


@event.listens_for(Session, "after_rollback")
def _drop_after_rollback(session: Session) -> None:
    session.info.pop("mail_pending", None)


def deliver(config: dict[str, Any], ids: list[uuid.UUID]) -> None:
    """Send outbox rows over SMTP and mark them sent (or record the error)."""

    dbs = db.new_session(write=True)
    try:
        for message in dbs.scalars(select(EmailMessage).where(EmailMessage.id.in_(ids))):
            mime = MimeMessage()
            mime["From"], mime["To"], mime["Subject"] = config["MAIL_DEFAULT_SENDER"], message.to, message.subject
            mime.set_content(message.body)
            try:
                with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=10) as smtp:
                    if config["MAIL_USE_TLS"]:
                        smtp.starttls()
                    if config["MAIL_USERNAME"]:
                        smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
                    smtp.send_message(mime)
                message.sent_at = utcnow()
            except (OSError, smtplib.SMTPException) as exc:
                message.error = str(exc)[:500]
                log.warning("SMTP delivery to %s failed: %s", message.to, exc)
        dbs.commit()
    finally:
        dbs.close()
