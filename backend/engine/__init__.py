"""The Ray engine: the networks live in Ray actors (hosts), and API replicas serve any of them.

``python -m backend --engine ray`` serves through :mod:`backend.engine.gateway`; the hosts
(:mod:`backend.engine.host`) each run the same app in-process for the networks whose ids fall
to them. Nothing here is imported by the default engine (``--engine local``).
"""
