"""Audio: decoding, multi-camera sync by waveform, speech-to-text. Pure functions, no Ray."""
