"""The account-free stand-ins the product runs on without ClickUp, mail or Slack: task JSON
files, a local Maildir, a Slack log, simulated influencers and the shipped sample data.
"""
