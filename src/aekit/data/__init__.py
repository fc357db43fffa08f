"""Data in and out: file readers, validation, preprocessing and training-time corruption."""
