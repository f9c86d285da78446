"""gunicorn's settings for `make serve` (`gunicorn --config python:config.gunicorn`): the access log
goes through a logger that redacts secrets sent in query strings (providers/redaction.py)."""

logger_class = "providers.redaction.GunicornLogger"
