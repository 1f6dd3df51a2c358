"""The audit CLI: replay the history, rebuild and compare the figures, verify integrity, print timelines.

It ships with the reporting service because it rebuilds reporting's projections, through the same
projection module the live consumer drives (one code path, two drivers). Kafka access is kafka-python.
"""
