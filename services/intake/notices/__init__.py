"""The written notices (书面告知): composed from the events, rendered as PDF and DOCX, issued as events."""
