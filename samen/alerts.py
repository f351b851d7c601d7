"""Failure alerts: a failed flow run mails the coordinators, at most once a day per cause."""

from __future__ import annotations

import hashlib
import logging
import re
from datetime import UTC, datetime
from typing import Any

from samen.config import Config, ConfigError, load_config
from samen.domain.messages import OutgoingMessage, message_id_for, message_key
from samen.gateways.factory import build_mail
from samen.gateways.mail import Envelope, MailError
from samen.mailbuild import MAIL_POLICY, build_email
from samen.rendering import Renderer
from samen.stages.delivery import programme_context, sender_of

log = logging.getLogger("samen.alerts")
_NUMBERS = re.compile(r"\d+")


def cause_of(message: str) -> str:
    """Return a failure's cause without its numbers, so a repeat of it is the same cause."""
    first = (message or "onbekende fout").strip().splitlines()[0][:300]
    return hashlib.sha256(_NUMBERS.sub("#", first).encode("utf-8")).hexdigest()[:12]


def notify_failure(flow: Any, flow_run: Any, state: Any) -> None:
    """Prefect on_failure hook: mail the coordinators about a failed run (once a day per cause)."""
    params = getattr(flow_run, "parameters", {}) or {}
    try:
        config = load_config(params.get("config_path"))
    except ConfigError as exc:
        log.error("Run %s failed and no configuration to alert anyone: %s", flow_run.id, exc)
        return
    text = str(getattr(state, "message", "") or "")
    try:
        send_failure_alert(config, getattr(flow, "name", "flow"), text)
    except (MailError, OSError) as exc:  # the alert must never hide the original failure
        log.error("Could not send the failure alert for run %s: %s", flow_run.id, exc)


def send_failure_alert(config: Config, flow_name: str, text: str, now: datetime | None = None) -> bool:
    """Send the alert unless this cause was already reported today; return True if sent."""
    moment = now or datetime.now(UTC)
    day = moment.astimezone(config.programme.zone).date()
    cause = cause_of(text)
    marker = config.mail.outbox_path.parent / "storingen" / f"{day.isoformat()}-{flow_name}-{cause}"
    if marker.exists():
        return False
    renderer = Renderer(config.programme.language)
    sender = sender_of(config)
    domain = config.mail.from_address.rsplit("@", 1)[-1]
    signal = {"kind": "Storing", "subject": f"de run '{flow_name}'",
              "explanation": f"De run '{flow_name}' is mislukt: {text.strip()[:1000]}", "date": day}
    mail = build_mail(config)
    mail.open()
    try:
        for coordinator in config.programme.coordinators:
            key = message_key("storing", f"{flow_name}|{cause}", coordinator, day.isoformat())
            rendered = renderer.render("signaal-coordinatoren", {
                "programme": programme_context(config), "recipient_name": "",
                "programme_mail": False, "signal": signal})
            message = build_email(OutgoingMessage(key, message_id_for(key, domain), "", coordinator,
                                                  rendered, None, False), sender, now=moment)
            mail.send_raw(message.as_bytes(policy=MAIL_POLICY),
                          Envelope(str(message["Message-ID"]), config.mail.from_address, coordinator))
    finally:
        mail.close()
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.touch()
    return True
