"""Accounts: the first run (the first account administers the site), who may sign up afterwards
(WAVELENGTH_SIGNUP: invite links, open or closed) and password resets with or without a mail server."""
