"""Schemathesis against the schema the server publishes: for every operation, requests generated
from the schema (bounded, and the same on every run) are sent to the WSGI application on the test
database as a member with a token, and each answer must be what the schema says: no server
error, a documented status, content type, headers and body.

The budget per operation (``MAX_EXAMPLES``) keeps the whole run near a minute on two cores.
"""

import hypothesis
import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from schemathesis.checks import not_a_server_error
from schemathesis.generation.hypothesis.builder import ApiOperationMark
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from kirakira.accounts import services as account_services
from kirakira.common.testing import PASSWORD, MemberFactory
from kirakira.consultations.testing import open_for_member, upload
from kirakira.orders.testing import make_service, place_order

MAX_EXAMPLES = 15
STATEFUL_SCENARIOS = 10
STATEFUL_STEPS = 6
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
# Operations that end the token they are called with: each of their examples gets its own.
ENDS_TOKENS = {"/api/v1/auth/logout", "/api/v1/auth/logout-all"}
# Operations that end the member: each of their examples gets a member of its own, and that
# member's password in place of the generated one, so that the answer checked is the real
# withdrawal's. In the stateful run the password stays the generated one (never the member's):
# a withdrawal there would end the member every other call of the scenario is made as.
ENDS_MEMBER = {"/api/v1/me/withdraw"}

CONFIG = schemathesis.Config.from_dict(
    {
        "generation": {
            "mode": "positive",
            "max-examples": MAX_EXAMPLES,
            "deterministic": True,
            # No example database under the working tree; every run starts the same.
            "database": "none",
        },
    }
)


# Loaded when the module is collected (the schema is built from code: no database is needed), so
# that each operation is a test of its own.
schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application(), config=CONFIG)


@pytest.fixture(autouse=True)
def _requests_keep_the_test_connection(db):
    """Keep the WSGI application from closing the test's database connection at the end of each
    request, as Django's test client does."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    cache.clear()  # throttle counters outlive the database
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
        cache.clear()


@pytest.fixture
def member(db):
    return MemberFactory()


@pytest.fixture
def own_objects(member):
    """The member's order, consultation and attachment, whose IDs replace the generated ones in
    paths, and a service on sale for new orders: random IDs would only ever reach a 404 or a 400."""
    service = make_service()
    order = place_order(member=member, service=service)
    consultation = open_for_member(member, files=[upload()])
    attachment = consultation.messages.get().attachments.get()
    return {
        "path": {"order_id": order.pk, "consultation_id": consultation.pk, "attachment_id": attachment.pk},
        # Fields of a body that name an object, and the object they name here.
        "body": {"service": service.pk, "sns_platform": service.platforms.get().code, "order": str(order.pk)},
    }


def token_for(member) -> str:
    _instance, token = account_services.member_token_create(user=member, client="schemathesis")
    return token


@pytest.fixture
def token(member):
    return token_for(member)


def pytest_generate_tests(metafunc):
    """Name each operation's test after the operation (``test_...[POST /api/v1/orders]``), which
    Schemathesis's own naming no longer does under pytest 9.2."""
    operation = ApiOperationMark.get(metafunc.function)
    if operation is not None and "operation" in metafunc.fixturenames:
        metafunc.parametrize("operation", [operation.label], ids=[""])


@schema.parametrize()
@hypothesis.settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(hypothesis.HealthCheck),
)
def test_the_server_answers_as_its_schema_says(case, member, token, own_objects, operation):
    if case.operation.path in ENDS_TOKENS:
        token = token_for(member)
    if case.operation.path in ENDS_MEMBER:
        token = token_for(MemberFactory())
        if isinstance(case.body, dict) and "password" in case.body:
            case.body["password"] = PASSWORD
    for name, value in own_objects["path"].items():
        if name in (case.path_parameters or {}):
            case.path_parameters[name] = str(value)
    name_own_objects_in_body(case, own_objects)
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)


def name_own_objects_in_body(case, own_objects):
    if isinstance(case.body, dict):
        for name, value in own_objects["body"].items():
            if name in case.body:
                case.body[name] = value


@pytest.mark.django_db
def test_calls_chained_by_the_schema_links_answer_as_the_schema_says(member, token, own_objects):
    """Schemathesis's stateful run: from the answer of one call to the next through the schema's
    links (a new order to its detail and its cancellation, a new consultation to its thread...),
    each answer checked as above. Few, short scenarios: the links are the point."""

    class Workflow(schema.as_state_machine()):
        def before_call(self, case):
            name_own_objects_in_body(case, own_objects)

        def get_call_kwargs(self, case):
            return {"headers": {"Authorization": f"Bearer {token}"}}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs or None)

    Workflow.run(
        settings=hypothesis.settings(
            max_examples=STATEFUL_SCENARIOS,
            stateful_step_count=STATEFUL_STEPS,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(hypothesis.HealthCheck),
        )
    )
