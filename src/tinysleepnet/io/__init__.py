"""Reading and writing recordings, hypnograms and result files."""
