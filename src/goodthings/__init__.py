"""goodthings: an IoT data hub where good practice is the default."""

__version__ = "0.1.0"
