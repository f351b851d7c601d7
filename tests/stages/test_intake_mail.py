"""What intake sends: receipts, correction requests and signals, once each, safe with hostile data."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Callable
from datetime import date
from email.message import EmailMessage
from pathlib import Path

from samen.config import Config
from samen.gateways.factory import build_mail, build_sheets, build_store
from samen.stages.intake import IntakeSummary, run_intake
from samen.testing.forms import make_response
from samen.testing.workbooks import edit_cells, records, tab_rows

DAY = date(2022, 11, 1)
MakeConfig = Callable[..., Config]


def intake(config: Config, dry_run: bool = False) -> IntakeSummary:
    """Run intake once with fresh gateways."""
    store, sheets = build_store(config), build_sheets(config)
    try:
        return run_intake(config, sheets=sheets, store=store, mail=build_mail(config), as_of=DAY,
                          dry_run=dry_run)
    finally:
        sheets.close()
        store.close()


def outbox(config: Config) -> list[EmailMessage]:
    """Return the messages in the outbox, parsed strictly."""
    folder = config.mail.outbox_path
    out = []
    for path in sorted(folder.glob("*.eml")) if folder.exists() else []:
        msg = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        out.append(msg)
    return out


def tab(config: Config, title: str) -> list[dict[str, str]]:
    """Return a tab's rows as dicts."""
    return records(tab_rows(config.workbook.path, title))


def test_receipts_go_once_to_both_contacts(workbook_config: MakeConfig) -> None:
    """Each new application gets one receipt per contact; a second run sends nothing."""
    config = workbook_config([make_response(1), make_response(2)])
    first = intake(config)
    messages = outbox(config)
    assert first.messages_sent == 4 and len(messages) == 4
    assert sorted(m["To"].addresses[0].addr_spec for m in messages) == [
        "ambtenaar1@example.org", "ambtenaar2@example.org", "bewoner1@example.org",
        "bewoner2@example.org"]
    body = messages[0].get_body(("plain",)).get_content()
    assert f"{config.programme.retention_months} maanden" in body
    again = intake(config)
    assert again.messages_recorded == 0 and again.messages_sent == 0 and len(outbox(config)) == 4
    assert again.manifest == ""
    log = tab(config, "Berichten")
    assert len(log) == 4 and {r["Status"] for r in log} == {"verstuurd"}


def test_correction_request_once_per_version(workbook_config: MakeConfig) -> None:
    """An invalid response gets one request per version; the request date lands in Te corrigeren."""
    config = workbook_config([make_response(1, consent="Nee")])
    intake(config)
    intake(config)
    requests = [m for m in outbox(config) if m["To"].addresses[0].addr_spec == "aanvrager1@example.org"]
    assert len(requests) == 1
    assert "Toestemming" in requests[0].get_body(("plain",)).get_content()
    assert config.programme.form_link in requests[0].get_body(("plain",)).get_content()
    row = tab(config, "Te corrigeren")[0]
    assert row["Verzoek verstuurd op"] and row["Status"] == "open"
    header = tab_rows(config.workbook.path, "Formulierreacties 1")[0]
    edit_cells(config.workbook.path, "Formulierreacties 1",
               {(2, header.index("Postcode") + 1): "onbekend"})
    intake(config)
    requests = [m for m in outbox(config) if m["To"].addresses[0].addr_spec == "aanvrager1@example.org"]
    assert len(requests) == 2
    edit_cells(config.workbook.path, "Formulierreacties 1", {
        (2, header.index("Postcode") + 1): "1234 AB", (2, header.index("Toestemming") + 1): "Ja"})
    fixed = intake(config)
    assert fixed.new_applications == 1 and fixed.messages_sent == 2  # the two receipts
    assert tab(config, "Te corrigeren")[0]["Status"] == "opgelost"


def test_hostile_answers_make_valid_messages(workbook_config: MakeConfig) -> None:
    """CR/LF in a name, HTML and script in answers, 50,000 characters: valid, escaped messages."""
    script = "<script>alert('x')</script> & <b>vet</b>"
    config = workbook_config([
        make_response(1, initiative_contact="Jan\r\nBcc: evil@example.org", initiative=script),
        make_response(2, description="x" * 50_000, initiative=script),
    ])
    summary = intake(config)
    assert summary.messages_sent >= 3
    for msg in outbox(config):
        assert msg["Bcc"] is None and len(msg.get_all("To") or []) == 1
        for part in msg.walk():
            assert not part.defects
        html = msg.get_body(("html",)).get_content()
        assert "<script>" not in html
    receipt = next(m for m in outbox(config) if m["To"].addresses[0].addr_spec == "bewoner1@example.org")
    assert "&lt;script&gt;" in receipt.get_body(("html",)).get_content()
    assert "\n" not in str(receipt["To"]) and "evil" not in str(receipt["To"].addresses[0].addr_spec)


def test_late_submission_is_signalled_once(workbook_config: MakeConfig) -> None:
    """A late response raises one signal, mailed once to each coordinator; its Status stays human."""
    config = workbook_config([make_response(1, submitted_at="31-10-2022 09:00:00")])
    first = intake(config)
    assert first.signals_added == 1
    signals = tab(config, "Signalen")
    assert len(signals) == 1 and signals[0]["Soort"] == "Te laat ingediend"
    assert signals[0]["Status"] == "open" and signals[0]["Betreft"] == "SAMEN-2022-001"
    to_coordinators = [m for m in outbox(config)
                       if m["To"].addresses[0].addr_spec in config.programme.coordinators]
    assert len(to_coordinators) == len(config.programme.coordinators)
    header = tab_rows(config.workbook.path, "Signalen")[0]
    edit_cells(config.workbook.path, "Signalen", {(2, header.index("Status") + 1): "afgehandeld"})
    again = intake(config)
    assert again.signals_added == 0 and again.messages_sent == 0
    assert tab(config, "Signalen")[0]["Status"] == "afgehandeld"


def test_dry_run_writes_manifest_and_sends_nothing(workbook_config: MakeConfig, tmp_path: Path) -> None:
    """A dry run renders everything and writes a manifest, but sends and records nothing."""
    config = workbook_config([make_response(1), make_response(2, consent="Nee")])
    summary = intake(config, dry_run=True)
    assert summary.messages_sent == 0 and outbox(config) == []
    manifest = Path(summary.manifest)
    text = manifest.read_text(encoding="utf-8")
    assert manifest.parent == config.mail.outbox_path.parent / "manifests"
    assert text.count("gepland (proef)") == 3 and "correctieverzoek" in text
    real = intake(config)
    assert real.messages_sent == 3 and len(outbox(config)) == 3
