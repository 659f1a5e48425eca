"""Loading and validating the editable business rules of `config/` (policy, templates,
vocabularies, field mapping) into the typed settings the engine and workflow take, and the
log filter that keeps secrets out of every log line.
"""
