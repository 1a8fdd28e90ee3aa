"""``GET /api/v1/privacy/my-data``: what the member's "My data" page shows, as JSON
(``selectors.my_data``). Only ever the caller's own data; staff accounts ask the privacy
officer."""

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.exceptions import PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from kirakira.api.errors import ErrorOutput
from kirakira.common import clock

from . import selectors
from .selectors import LOG_ROWS, ROW_LIMIT


class RuleOutput(serializers.Serializer):
    code = serializers.CharField(
        help_text="The retention rule's code (the privacy policy's retention table)."
    )
    label = serializers.CharField(help_text="In the request's language (Accept-Language).")
    period_label = serializers.CharField(help_text='"5 years", "6 months", or "until the purpose is met".')
    starts = serializers.CharField(help_text='When the period starts: "from the end of the contract".')
    basis = serializers.CharField(help_text="The law or the policy that sets the rule.")


class DisposalOutput(serializers.Serializer):
    rule = RuleOutput()
    started = serializers.BooleanField(
        help_text="Whether the rule's clock has started for this value (an open order's has not: its "
        "contract has not ended)."
    )
    at = serializers.DateTimeField(
        allow_null=True,
        help_text="When the value will be disposed of (the retention sweep runs daily); null until the "
        "clock starts.",
    )
    words = serializers.CharField(
        help_text='The rule in words, for a value whose clock has not started: "5 years from the end of '
        'the contract".'
    )
    event = serializers.CharField(help_text="What starts the clock, in the policy's words.")
    text = serializers.CharField(help_text="`at` as a date, or `words`, as the page shows it.")


class ItemOutput(serializers.Serializer):
    entry = serializers.CharField(
        help_text='What `entries` of a deletion request takes to name this item ("orders.Order.note"), or '
        "the whole kind of record when the item can only go with its record."
    )
    field = serializers.CharField(help_text='The field, or "*" for a record whose columns are all personal.')
    label = serializers.CharField()
    items = serializers.ListField(child=serializers.CharField(), help_text="The privacy policy's items.")
    purposes = serializers.ListField(child=serializers.CharField())
    rules = RuleOutput(many=True, help_text="Every rule its values may follow (a complaint's is longer).")
    protection = serializers.CharField(help_text='"plain" or "encrypted" (with a key of your own).')


class ValueOutput(serializers.Serializer):
    name = serializers.CharField(help_text="The column (a field of `items`, or a column of a record).")
    value = serializers.JSONField(
        allow_null=True, help_text="The value, decrypted; null for a file (see `text` for its size)."
    )
    text = serializers.CharField(help_text="The value as the page shows it.")
    under_correction = serializers.BooleanField(
        help_text="You asked for it to be corrected and the request is open: it is shown to you, and "
        "used for nothing else until the correction is done."
    )
    correction_url = serializers.CharField(
        help_text="The page to ask for a correction of this value, prefilled; empty if it cannot be asked for."
    )
    change_url = serializers.CharField(
        help_text="The page where you change this value yourself; empty if none."
    )
    disposal = DisposalOutput(allow_null=True, help_text="Null for a column of a record (see the record's).")


class RecordOutput(serializers.Serializer):
    id = serializers.CharField(help_text="The record's ID; empty when its key is a secret (a session key).")
    reference = serializers.CharField(help_text="Its reference, or its order's or consultation's.")
    date = serializers.DateTimeField(allow_null=True)
    disposal = DisposalOutput(allow_null=True, help_text="When the record goes (most of its values).")
    values = ValueOutput(many=True)


class ColumnOutput(serializers.Serializer):
    name = serializers.CharField()
    label = serializers.CharField()


class SectionOutput(serializers.Serializer):
    entry = serializers.CharField(help_text="What `entries` of a deletion request takes to name all of them.")
    model = serializers.CharField(source="model_label")
    title = serializers.CharField()
    count = serializers.IntegerField(help_text="How many you have in all.")
    oldest = serializers.DateTimeField(allow_null=True)
    newest = serializers.DateTimeField(allow_null=True)
    earliest_disposal = DisposalOutput(allow_null=True, help_text="The first of them to be disposed of.")
    is_log = serializers.BooleanField(
        help_text=f"A log collected as you use the service: only the latest {LOG_ROWS} are in `records`."
    )
    truncated = serializers.BooleanField(help_text="`records` holds fewer than `count`.")
    columns = serializers.SerializerMethodField()
    items = ItemOutput(many=True)
    records = RecordOutput(many=True)
    link = serializers.CharField(
        help_text="A page of its own with every row (the staff access log), or empty."
    )

    @extend_schema_field(ColumnOutput(many=True))
    def get_columns(self, section) -> list[dict]:
        return ColumnOutput([{"name": n, "label": label} for n, label in section.columns], many=True).data


class GroupOutput(serializers.Serializer):
    context = serializers.CharField(help_text='"membership", "service", "consultation" or "security".')
    label = serializers.CharField(help_text="The privacy policy's heading.")
    sections = SectionOutput(many=True)


class DisclosureCorrectionOutput(serializers.Serializer):
    record = serializers.CharField()
    field = serializers.CharField()
    created_at = serializers.DateTimeField()
    sent_at = serializers.DateTimeField(allow_null=True, help_text="When the recipient was told; null until then.")


class DisclosureOutput(serializers.Serializer):
    reference = serializers.CharField()
    recipient = serializers.CharField(help_text="The authority the data was provided to.")
    legal_basis = serializers.CharField(help_text="The law under which it had to be provided.")
    request_reference = serializers.CharField()
    requested_on = serializers.DateField()
    provided_at = serializers.DateTimeField()
    items = serializers.ListField(child=serializers.CharField(), help_text="The privacy policy's items provided.")
    item_labels = serializers.ListField(child=serializers.CharField())
    values = serializers.ListField(
        child=serializers.DictField(), help_text="Exactly what was provided: record, ID, field, item and value."
    )
    corrections = DisclosureCorrectionOutput(many=True)


class MyDataOutput(serializers.Serializer):
    generated_at = serializers.DateTimeField()
    groups = GroupOutput(many=True)
    disclosures = DisclosureOutput(
        many=True,
        help_text="Provisions of the caller's data required by law (the only way data leaves the company), "
        "except one a law forbids telling until a date.",
    )


class MyDataApi(APIView):
    @extend_schema(
        summary="Everything held about the caller",
        description=(
            "Everything Kirakira holds about the caller, as on the “My data” page, grouped by the privacy "
            "policy's collection contexts: each kind of record with its items, their purposes and retention "
            "rules, and the caller's records, values decrypted, each with the date it will be disposed of "
            "(or, while its clock has not started, the rule in words). Values the caller asked to have "
            "corrected are marked `under_correction`. One-way hashes and credentials (password hash, "
            "session keys, token digests) are never included. "
            f"There is no paging: a log (the usage log, the staff access log) lists its latest {LOG_ROWS} "
            f"records with its count, oldest, newest and first disposal date, any other kind its latest "
            f"{ROW_LIMIT}; every record is in the download (`POST /api/v1/privacy/requests` with "
            '`kind: "export"`). Texts are in the request\'s language (Accept-Language).'
        ),
        responses={
            200: MyDataOutput,
            401: OpenApiResponse(ErrorOutput, description="No valid token."),
            403: OpenApiResponse(
                ErrorOutput,
                description="A staff account: staff ask the privacy officer about their own data.",
            ),
        },
    )
    def get(self, request):
        if request.user.is_staff:
            raise PermissionDenied(
                _("Staff accounts make requests about their own data to the privacy officer directly.")
            )
        from kirakira.disclosures.selectors import told_rows

        now = clock.now()
        data = selectors.my_data(request.user, now=now)
        data.disclosures = told_rows(request.user, now=now)
        # Tagged like every GET of the API (ConditionalGetMiddleware), so not "no-store".
        return Response(MyDataOutput(data).data)
