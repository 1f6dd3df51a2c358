"""Escalation's rules as plain Python: routing, deadline arithmetic, the per-matter timer state.

No faust, no Kafka: ``handle(county, matter, intake, now)`` and ``advance(county, matter, now)``
return the new state and the routing facts; ``chain_facts`` puts the facts on the matter's chain.
"""
