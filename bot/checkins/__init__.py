"""Days 8–30: weekly check-ins, the AE in the loop, the day-30 switch, packet ratings."""
