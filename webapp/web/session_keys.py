"""What the app keeps in Flask's session cookie, by key: for the modules that read and write the same ones."""

#: The id of the registry's login session record (webapp/registry/login_sessions.py).
SESSION_ID = "sid"
#: The CSRF token's key in the session (Flask-WTF's), kept when a password change renews the session.
CSRF_TOKEN = "csrf_token"  # noqa: S105 -- a key's name, not a secret
#: The chosen language. Logging in or out starts a new session but keeps it: the choice is no secret, and a
#: page that turns Russian after one chose English has lost the person.
LANGUAGE = "language"
