"""Run every benchmark."""

from bench import (
    api,
    bootstrap,
    lm_eval_harness,
    predict_throughput,
    sandbox,
    scheduling,
    serving_capacity,
    summarize,
    tco,
    train_throughput,
)

if __name__ == "__main__":  # the vLLM engine spawns processes
    bootstrap.main()
    summarize.main()
    tco.main()
    api.main()
    scheduling.main()
    sandbox.main()
    predict_throughput.main()
    lm_eval_harness.main()
    train_throughput.main()
    serving_capacity.main()
