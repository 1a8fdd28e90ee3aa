"""Retention and disposal (policy C4): the executable rules (``rules.py``), the sweep that
carries them out (``sweep.py``), withdrawal and separate storage (``withdrawal.py``,
``storage.py``), legal holds and the disposal ledger (``models.py``, ``ledger.py``).

Apps declare their disposals with ``register`` in their ``privacy.py``; the custom disposals
below are named here so that declarations need not import models while apps load."""

from .rules import Disposal, disposals, for_model, register


def dispose_withdrawn_members(disposal, context):
    from .storage import dispose_withdrawn_members as run

    run(disposal, context)


def dispose_retained(disposal, context):
    from .storage import dispose_retained as run

    run(disposal, context)


__all__ = ["Disposal", "dispose_retained", "dispose_withdrawn_members", "disposals", "for_model", "register"]
