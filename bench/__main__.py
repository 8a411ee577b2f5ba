"""Run every benchmark."""

from bench import bootstrap, predict_throughput

if __name__ == "__main__":  # the vLLM engine spawns processes
    bootstrap.main()
    predict_throughput.main()
