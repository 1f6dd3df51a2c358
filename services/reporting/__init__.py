"""reporting: projects petition.events and petition.routing into statistics tables and serves the figures.

The projection (:mod:`reporting.projection`) is one module with two drivers: the live consumer
(:mod:`reporting.consumer`, aiokafka) and the replay (:mod:`reporting.replay`, kafka-python) that the
audit uses to rebuild the tables into a scratch schema.
"""
