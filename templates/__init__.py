"""Jinja2 templates of everything people read: email/<lang>/<kind>.{subject,txt,html}.j2."""
