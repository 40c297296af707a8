"""The email room of the core: raw mail store and ingest job, threading, loop
guards and throttles, suppression list, quarantine and bounce handling.

It knows no SMTP, IMAP or MIME library: channels (``channels.email``) hand it raw
bytes (:func:`gateway.mail.ingest.ingest_raw`) and a parser behind the
:class:`gateway.mail.contracts.MailParser` port.
"""
