"""tf.signal's functions: framing, windows, mel filters, FFTs, STFT, DCT/MDCT and MFCCs."""
