"""The HTTP edge: the only package that imports Starlette.

``app`` builds the ASGI app, ``api`` and ``control`` hold the handlers and route tables of the
SimplyQ API and of ``/_emulator/``, ``requests`` reads requests and ``responses`` writes answers
(errors and their hints in one place). Handlers parse and validate, call one operation of the
layer below, and serialize.
"""
