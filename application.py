"""The WSGI entry point: ``gunicorn application:application``.

Elastic Beanstalk's Python platform looks for a callable named
``application`` in ``application.py`` by default.
"""

from crossword_hints import create_app

application = create_app()
