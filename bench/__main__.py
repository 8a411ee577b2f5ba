"""Run every benchmark."""

from bench import api, bootstrap, lm_eval_harness, predict_throughput, scheduling, train_throughput

if __name__ == "__main__":  # the vLLM engine spawns processes
    bootstrap.main()
    api.main()
    scheduling.main()
    predict_throughput.main()
    lm_eval_harness.main()
    train_throughput.main()
