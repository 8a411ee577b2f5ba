"""Generated tasks: the seeded support-email generator (logic in ``support_emails``, its phrase pools in
``templates``)."""
