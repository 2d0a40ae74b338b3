"""Hostile input: every malformed request is a 4xx with a JSON body naming the problem, and
nothing is stored.

Each test seeds one environment (an application ``app`` with an endpoint ``ep``, an event ``evt``
delivered to it), takes a snapshot of everything the API and the control API show, fires a batch
of hostile requests at every route they apply to, checks each answer, and compares the snapshot
afterwards: nothing was created, changed, delivered or advanced (the ``env`` fixture of
``conftest.py``; ``seeded.py`` holds the environment and the check of a refusal).

``tests/emulator/test_validation.py`` pins the single-case rules (which field, which message);
here the inputs are systematic (every field times every wrong JSON type, every body route) and
the point is the invariant: refused, explained, nothing stored.
"""
