"""escalation (督办): routes each matter, holds every unit to its time limits, escalates what is overdue.

``domain/`` holds the rules as pure functions; the faust worker (``app``) drives them from
``petition.events`` and a timer, keeps per-matter state in a RocksDB table with a changelog,
and writes the routing facts to ``petition.routing``.
"""
