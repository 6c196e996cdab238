"""Who owns what this week: `/baton owner` and friends, coverage, reassignment, history,
the App Home dashboard and the Monday digest."""
