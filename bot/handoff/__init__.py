"""The handoff window in Slack: intake, the account channel, the packet gate, the kickoff."""
