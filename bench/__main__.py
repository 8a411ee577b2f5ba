"""Run every benchmark."""

from bench import api, bootstrap, predict_throughput, scheduling, serving_capacity

if __name__ == "__main__":  # the vLLM engine spawns processes
    bootstrap.main()
    api.main()
    scheduling.main()
    predict_throughput.main()
    serving_capacity.main()
