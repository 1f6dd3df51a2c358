"""xinfang — the shared package of the petition-handling system (信访事项处理系统).

Event contracts, county configuration, the working-day calendar, settings and the
Kafka / PostgreSQL helpers that the three services share. It imports no service.
"""
