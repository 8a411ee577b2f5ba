"""Run every benchmark."""

from bench import api, bootstrap

bootstrap.main()
api.main()
