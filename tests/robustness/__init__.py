"""Robustness suite: fuzzing of every parser that reads outside input, a real public MIME
corpus through the reply path, and ClickUp/Slack fakes that fail on purpose."""
