"""Run every benchmark."""

from bench import bootstrap, scheduling

bootstrap.main()
scheduling.main()
