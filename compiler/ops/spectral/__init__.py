"""Spectral ops: `fft` (StableHLO's fft: FFT, IFFT, RFFT, IRFFT over the trailing 1-3 dims)."""
from . import fft  # noqa: F401
