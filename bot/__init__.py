"""Shield: keeps deepfake porn and other non-consensual intimate imagery out of chat."""

__version__ = "0.1.0"
