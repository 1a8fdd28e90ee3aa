"""Consultations in the data catalog: every field declared, the retention rule chosen by
category, and the policy page saying both rules."""

import re
from dataclasses import replace

import pytest
from django.core import management
from django.core.management.base import SystemCheckError

from kirakira.consultations.models import Attachment, Consultation, Message
from kirakira.consultations.testing import open_for_member, upload
from kirakira.privacy.catalog import Protection, Retention, catalog
from kirakira.privacy.catalog.vocabulary import RetentionRule


@pytest.mark.parametrize("model", [Consultation, Message, Attachment])
def test_every_personal_field_is_encrypted_and_retained_by_category(model):
    entries = catalog.for_model(model).personal_fields()
    assert entries
    for entry in entries:
        assert entry.protection in (Protection.ENCRYPTED, Protection.ONE_WAY)
        assert set(entry.rules) == {Retention.CONSULTATION_ANSWERED_1Y, Retention.COMPLAINT_RECORD_5Y}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("category", "rule"),
    [
        ("question", Retention.CONSULTATION_ANSWERED_1Y),
        ("proposal", Retention.CONSULTATION_ANSWERED_1Y),
        ("personal_information", Retention.CONSULTATION_ANSWERED_1Y),
        ("complaint", Retention.COMPLAINT_RECORD_5Y),
    ],
)
def test_the_rule_follows_the_category_through_relations(category, rule):
    consultation = open_for_member(category=category, files=[upload()])
    message = consultation.messages.get()
    attachment = Attachment.objects.get(message=message)
    assert catalog.field(Consultation, "subject").rule_for(consultation) == rule
    assert catalog.field(Message, "body").rule_for(message) == rule
    assert catalog.field(Attachment, "content").rule_for(attachment) == rule


@pytest.mark.django_db
def test_the_policy_page_lists_consultations_under_both_rules(client):
    html = client.get("/en/privacy/policy/").content.decode()
    for code in ("consultation_answered_1y", "complaint_record_5y"):
        row = re.search(rf'<tr id="retention-{code}">.*?</tr>', html, re.S).group(0)
        assert "Consultation and proposal contents" in row
    assert "1 year" in re.search(r'<tr id="retention-consultation_answered_1y">.*?</tr>', html, re.S).group(0)


def test_a_rule_by_category_outside_the_vocabulary_fails_the_check():
    declaration = catalog.for_model(Consultation)
    saved = declaration.fields["subject"]
    invented = RetentionRule("forever", "Forever", "none", years=99)
    declaration.fields["subject"] = replace(saved, retention_by=("category", (("complaint", invented),)))
    try:
        with pytest.raises(SystemCheckError, match="unknown retention rule"):
            management.call_command("check")
    finally:
        declaration.fields["subject"] = saved


def test_a_rule_by_a_field_that_does_not_exist_fails_the_check():
    declaration = catalog.for_model(Consultation)
    saved = declaration.fields["subject"]
    declaration.fields["subject"] = replace(
        saved, retention_by=("kind", (("complaint", Retention.COMPLAINT_RECORD_5Y),))
    )
    try:
        with pytest.raises(SystemCheckError, match="not a field"):
            management.call_command("check")
    finally:
        declaration.fields["subject"] = saved
