"""Run every benchmark."""

from bench import api, bootstrap, scheduling

bootstrap.main()
api.main()
scheduling.main()
