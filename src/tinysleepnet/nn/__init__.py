"""The network: TinySleepNet, its checkpoints, running it over nights, ONNX export and
runtime, devices, precision and threads."""
