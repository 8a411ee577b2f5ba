"""Run every benchmark."""

from bench import bootstrap

bootstrap.main()
