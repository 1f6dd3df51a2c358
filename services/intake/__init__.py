"""intake — the terminals' API: registers matters, records their handling, relays events."""
