"""The organisation's records as people author them: bounded models, refusals naming
the field and the rule, who may author what in their scope, and scoped reads for pages
and the API."""
