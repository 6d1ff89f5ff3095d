"""The lowest layer shared by training, evaluation and prediction: running the network over
nights, checkpoints, scores, sleep statistics, device and precision."""
