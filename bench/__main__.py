"""Run every benchmark."""

from bench import api, bootstrap, predict_throughput, sandbox, scheduling, tco

if __name__ == "__main__":  # the vLLM engine spawns processes
    bootstrap.main()
    tco.main()
    api.main()
    scheduling.main()
    sandbox.main()
    predict_throughput.main()
