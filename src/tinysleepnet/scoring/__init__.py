"""Hypnograms and their scores, NumPy only: the Hypnogram type, sleep statistics, the in-bed
window, agreement, calibration maths and the hypnogram figure."""
